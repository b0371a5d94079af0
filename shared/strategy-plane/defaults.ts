import { DEFAULTS } from '../config/defaults.ts';

/**
 * Strategy-plane defaults that shared/config/defaults.ts does not hold yet. They live here, once, and
 * should move into DEFAULTS when that file is next opened for edits (owned by the lead).
 */
export const STRATEGY_PLANE_DEFAULTS = {
  smaCross: { fast: 10, slow: 30, longOnly: DEFAULTS.backtest.longOnly },
  meanReversion: { window: 20, entryZ: 2, exitZ: 0.5, longOnly: false },
  momentum: { lookback: 60, threshold: 0, longOnly: false },
  ofi: { window: 10, threshold: 1, horizon: 5, longOnly: false },
  sizing: {
    /** Trades below this notional are skipped unless they close the position. */
    minNotional: 0,
    /** Expected edge of a full-strength signal in bps of traded notional; a risk-increasing trade must cost less. */
    edgeBps: 25,
    volTarget: { annualVol: 0.15, window: 20, maxLeverage: 1 },
    meanVariance: { window: 60, riskAversion: 10, ic: 0.05, maxWeight: 1, grossLeverage: 1, costAversion: 1 },
  },
  /** Rolling window of returns behind the volatility that cost estimates and vol targeting use. */
  statsWindow: 20,
} as const;
