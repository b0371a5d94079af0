import type { ExposureLimits, ReserveOutcome, ReserveRequest, SymbolExposure } from './port.ts';
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
 * Gross usage swaps the reserved notional for the symbol's re-marked filled notional; net usage
 * swaps it for the change in the symbol's signed filled notional.
 */
export function settleDeltas(res: Reservation, ledger: SymbolLedger, filledQty: number, fillPrice: number) {
  const signedFill = res.side === 'buy' ? filledQty : -filledQty;
  const newFilledQty = ledger.filledQty + signedFill;
  const newFilledNotional = filledQty > 0 ? Math.abs(newFilledQty) * fillPrice : ledger.filledNotional;
  const dFilledNet = Math.sign(newFilledQty) * newFilledNotional - Math.sign(ledger.filledQty) * ledger.filledNotional;
  return {
    dLong: res.side === 'buy' ? filledQty - res.qty : -filledQty,
    dShort: res.side === 'sell' ? filledQty - res.qty : -filledQty,
    dGross: newFilledNotional - ledger.filledNotional - res.notional,
    dNetLong: dFilledNet - (res.side === 'buy' ? res.notional : 0),
    dNetShort: -dFilledNet - (res.side === 'sell' ? res.notional : 0),
    newFilledQty,
    newFilledNotional,
  };
}

/** Daily-loss thresholds as floors on the day's PnL: trading halts at or below `halt`, reduces at or below `reduce`. */
export function pnlFloors(limits: ExposureLimits): { halt: number; reduce: number } {
  return { halt: -limits.maxDailyLoss, reduce: -limits.maxDailyLoss * limits.reducingAtLossFraction };
}

export interface ReserveState {
  readonly reserved: boolean;
  /** Reservations already made in the request's second (see orderSecond). */
  readonly ordersInSecond: number;
  /** longUse for a buy, shortUse for a sell. */
  readonly use: number;
  readonly grossUse: number;
  /** netLongUse for a buy, netShortUse for a sell. */
  readonly netUse: number;
  readonly dayPnl: number;
}

/** Why a reservation is refused on this state, or undefined when it fits (both stores decide with this). */
export function judgeReservation(req: ReserveRequest, limits: ExposureLimits, s: ReserveState): ReserveOutcome | undefined {
  if (s.reserved) return { outcome: 'already-reserved' };
  const floors = pnlFloors(limits);
  if (s.dayPnl <= floors.halt) return { outcome: 'rejected', rule: 'MAX_DAILY_LOSS', limit: limits.maxDailyLoss, observed: -s.dayPnl };
  if (s.dayPnl <= floors.reduce && !reducesPosition(req, s.use)) return { outcome: 'rejected', rule: 'REDUCE_ONLY', limit: -floors.reduce, observed: -s.dayPnl };
  if (s.ordersInSecond >= limits.maxOrdersPerSecond) return { outcome: 'rejected', rule: 'ORDER_RATE', limit: limits.maxOrdersPerSecond, observed: s.ordersInSecond + 1 };
  const notional = req.qty * req.price;
  const use = s.use + req.qty;
  // The same comparison as the stores' conditions (use <= cap - qty), so a refusal is always explained.
  if (s.use > positionCap(limits, req.price) - req.qty) {
    return use > limits.maxPositionQty
      ? { outcome: 'rejected', rule: 'MAX_POSITION_QTY', limit: limits.maxPositionQty, observed: use }
      : { outcome: 'rejected', rule: 'MAX_POSITION_NOTIONAL', limit: limits.maxPositionNotional, observed: use * req.price };
  }
  const gross = s.grossUse + notional;
  if (gross > limits.maxGrossExposure) return { outcome: 'rejected', rule: 'MAX_GROSS_EXPOSURE', limit: limits.maxGrossExposure, observed: gross };
  const net = s.netUse + notional;
  if (net > limits.maxNetExposure) return { outcome: 'rejected', rule: 'MAX_NET_EXPOSURE', limit: limits.maxNetExposure, observed: net };
  return undefined;
}

/** The largest position (quantity) a symbol may reach at `price`: the quantity limit or the notional one, whichever binds. */
export function positionCap(limits: ExposureLimits, price: number): number {
  return Math.min(limits.maxPositionQty, limits.maxPositionNotional / price);
}

/** The UTC second of an intent's decision time (epoch µs): the order-rate limit's window. */
export function orderSecond(ts: number): number {
  return Math.floor(ts / 1_000_000);
}

/** Shrinks the position even if every open order on its side fills: a sell of q when shortUse + q <= 0. */
export function reducesPosition(req: ReserveRequest, sideUse: number): boolean {
  return sideUse + req.qty <= 0;
}

export const ZERO_SYMBOL_EXPOSURE: SymbolExposure = { longUse: 0, shortUse: 0, filledQty: 0, filledNotional: 0 };
