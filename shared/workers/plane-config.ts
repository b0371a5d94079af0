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

/**
 * Bars kept per symbol by the paper broker for late intents: a worker may lag the market by far more
 * than a backtest. 65,536 bars are 1.3 s of one symbol's history at 50,000 ticks/s and 4.0 MB per
 * symbol, outside the JS heap (64 bytes a bar, measured); an intent in time walks none of it
 * (PaperBroker.submit), and a checkpoint writes only the bars added since the last one.
 */
export const WORKER_BROKER_RING = 65_536;

export type { WorkerEnv };
