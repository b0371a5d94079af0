import type { ExposureView, SymbolExposure } from './port.ts';
import type { Side } from '../domain/index.ts';

/** What an open reservation remembers so it can be settled or released later. */
export interface Reservation {
  readonly symbol: string;
  readonly side: Side;
  readonly qty: number;
  readonly notional: number;
}

export interface SymbolLedger {
  readonly filledQty: number;
  readonly filledNotional: number;
}

/**
 * How settling a reservation moves the counters. A buy reservation of q with f filled: its reserved q
 * leaves longUse and the filled f enters it (net f - q); the filled f also lowers shortUse.
 * Gross usage swaps the reserved notional for the symbol's re-marked filled notional.
 */
export function settleDeltas(res: Reservation, ledger: SymbolLedger, filledQty: number, fillPrice: number) {
  const signedFill = res.side === 'buy' ? filledQty : -filledQty;
  const newFilledQty = ledger.filledQty + signedFill;
  const newFilledNotional = filledQty > 0 ? Math.abs(newFilledQty) * fillPrice : ledger.filledNotional;
  return {
    dLong: res.side === 'buy' ? filledQty - res.qty : -filledQty,
    dShort: res.side === 'sell' ? filledQty - res.qty : -filledQty,
    dGross: newFilledNotional - ledger.filledNotional - res.notional,
    newFilledQty,
    newFilledNotional,
  };
}

export function emptyExposureView(): ExposureView {
  return { grossUse: 0, symbols: {}, openReservations: 0 };
}

export const ZERO_SYMBOL_EXPOSURE: SymbolExposure = { longUse: 0, shortUse: 0, filledQty: 0, filledNotional: 0 };
