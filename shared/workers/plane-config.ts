import { DEFAULTS } from '../config/defaults.ts';
import { InstrumentSchema, type Instrument } from '../domain/index.ts';
import type { WorkerEnv } from './env.ts';

/** Instruments as the backtest builds them (defaults.ts), so workers and backtest price alike. */
export function instrumentFor(symbol: string): Instrument {
  const d = DEFAULTS.instrument;
  return InstrumentSchema.parse({ symbol, venue: d.venue, tickSize: d.tickSize, lotSize: d.lotSize, multiplier: d.multiplier, quoteCurrency: d.quoteCurrency });
}

export function memoInstrument(): (symbol: string) => Instrument {
  const cache = new Map<string, Instrument>();
  return (symbol) => {
    let i = cache.get(symbol);
    if (!i) cache.set(symbol, (i = instrumentFor(symbol)));
    return i;
  };
}

/** Bars kept by the paper broker for late intents: a worker may lag the market by far more than a backtest. */
export const WORKER_BROKER_RING = 4_096;

export type { WorkerEnv };
