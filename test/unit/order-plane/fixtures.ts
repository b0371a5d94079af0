import type { Bar, Instrument, OrderIntent, Quote } from '../../../shared/domain/index.ts';
import { clientOrderId } from '../../../shared/domain/index.ts';

export const T0 = Date.UTC(2024, 0, 2, 14, 30) * 1000;
export const MINUTE = 60_000_000;
export const ACCOUNT = 'acct-test';

export const instrument = (symbol: string): Instrument => ({ symbol, venue: 'SIM', tickSize: 0.01, lotSize: 0.001, multiplier: 1, quoteCurrency: 'USD' });

let seq = 0;
export function intent(over: Partial<OrderIntent> & Pick<OrderIntent, 'side' | 'qty'>): OrderIntent {
  const base = { symbol: 'AAA', ts: T0, decisionPrice: 100, type: 'market' as const, ...over };
  return {
    clientOrderId: over.clientOrderId ?? clientOrderId({ accountId: ACCOUNT, strategyId: 's1', symbol: base.symbol, ts: base.ts, side: base.side, qty: base.qty, seq: seq++ }),
    accountId: ACCOUNT,
    strategyId: 's1',
    timeInForce: 'GTC',
    reduceOnly: false,
    reason: '',
    ...base,
  };
}

export function bar(ts: number, open: number, high: number, low: number, close: number, volume = 1_000, symbol = 'AAA'): Bar {
  return { kind: 'bar', symbol, ts, intervalUs: MINUTE, open, high, low, close, volume };
}

export function quote(ts: number, bid: number, ask: number, symbol = 'AAA'): Quote {
  return { kind: 'quote', symbol, ts, bid, ask };
}
