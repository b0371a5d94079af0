import type { Bar, ExecutionReport, Instrument, Ofi, OrderIntent, Quote, Signal, TargetPosition } from '../../../shared/domain/index.ts';
import type { Strategy, StrategyContext, StrategyPlaneSink } from '../../../shared/ports/planes.ts';
import { newOrder } from '../../../shared/order-plane/index.ts';

export const T0 = 1_700_000_000_000_000;
export const MINUTE = 60_000_000;

export function bar(i: number, close: number, symbol = 'BTCUSDT', volume = 10): Bar {
  return { kind: 'bar', symbol, ts: T0 + i * MINUTE, intervalUs: MINUTE, open: close, high: close, low: close, close, volume };
}

export function ofi(i: number, normalizedOfi: number, symbol = 'BTCUSDT'): Ofi {
  return { kind: 'ofi', symbol, ts: T0 + i * 1_000_000, intervalUs: 1_000_000, ofi: normalizedOfi * 10, normalizedOfi, events: 5, mid: 100 };
}

export function quote(i: number, bid: number, ask: number, bidSize: number, askSize: number, symbol = 'BTCUSDT'): Quote {
  return { kind: 'quote', symbol, ts: T0 + i * 1_000_000, bid, ask, bidSize, askSize };
}

export function instrument(symbol: string, lotSize = 0.001, extra: Partial<Instrument> = {}): Instrument {
  return { symbol, venue: 'SIM', tickSize: 0.01, lotSize, multiplier: 1, quoteCurrency: 'USD', ...extra };
}

export interface Emitted {
  readonly index: number;
  readonly strength: number;
  readonly price: number;
}

/** Runs closes through a strategy's onBar and records which bar (1-based) emitted what. */
export function runBars(strategy: Strategy, closes: readonly number[], startIndex = 1): Emitted[] {
  const out: Emitted[] = [];
  let current = 0;
  const ctx: StrategyContext = {
    position: () => 0,
    instrument: (s) => instrument(s),
    signal: (_symbol, _ts, strength, price) => out.push({ index: current, strength, price }),
  };
  closes.forEach((c, k) => {
    current = startIndex + k;
    strategy.onBar?.(bar(current, c), ctx);
  });
  return out;
}

export class RecordingSink implements StrategyPlaneSink {
  readonly signals: Signal[] = [];
  readonly targets: TargetPosition[] = [];
  readonly intents: OrderIntent[] = [];
  signal(s: Signal): void {
    this.signals.push(s);
  }
  target(t: TargetPosition): void {
    this.targets.push(t);
  }
  intent(i: OrderIntent): void {
    this.intents.push(i);
  }
}

/** The report an order plane would send for an intent reaching `status` with `filledQty` in total. */
export function report(intent: OrderIntent, status: ExecutionReport['order']['status'], filledQty: number, fillQty = 0, fillPrice = intent.decisionPrice): ExecutionReport {
  const order = { ...newOrder(intent), status, filledQty, avgFillPrice: filledQty > 0 ? fillPrice : 0, updatedTs: intent.ts + 1 };
  if (fillQty === 0) return { order };
  return {
    order,
    fill: {
      execId: `${intent.clientOrderId}-f${filledQty}`,
      clientOrderId: intent.clientOrderId,
      accountId: intent.accountId,
      strategyId: intent.strategyId,
      symbol: intent.symbol,
      side: intent.side,
      qty: fillQty,
      price: fillPrice,
      fee: 0,
      liquidity: 'taker',
      ts: intent.ts + 1,
      arrivalPrice: intent.decisionPrice,
    },
  };
}
