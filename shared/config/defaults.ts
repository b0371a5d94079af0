/**
 * Every default in algoplanes is defined here, once. Code that needs a default imports it from here;
 * env overrides are parsed in env.ts.
 */
export const DEFAULTS = {
  accountId: 'paper-1',
  instrument: { venue: 'SIM', tickSize: 0.01, lotSize: 0.001, multiplier: 1, quoteCurrency: 'USD' },
  backtest: {
    strategy: 'sma-cross',
    cash: 100_000,
    sizing: 'fixed-qty' as const,
    quantity: 1,
    notional: 10_000,
    fillModel: 'next-bar-open' as const,
    makerFeeBps: 0,
    takerFeeBps: 0,
    latencyUs: 0,
    longOnly: true,
    outDir: 'reports/latest',
  },
  risk: {
    maxPositionQty: 1_000_000,
    maxPositionNotional: 10_000_000,
    maxGrossExposure: 50_000_000,
    maxNetExposure: 50_000_000,
    maxDailyLoss: 1_000_000,
    maxOrderNotional: 10_000_000,
    /** Reject limit/market orders priced more than this fraction away from last/mid. */
    priceCollarPct: 0.1,
    maxOrdersPerSecond: 1_000,
    restrictedSymbols: [] as string[],
    /** Daily loss at this fraction of the limit moves trading to REDUCING before HALTED. */
    reducingAtLossFraction: 0.8,
  },
  quality: {
    /** Robust z-score (median/MAD of returns) above which a price move is an outlier. */
    outlierZ: 12,
    outlierWindow: 100,
    /** Only moves larger than this (5%) can be outliers: minute bars of a quiet market have tiny MADs. */
    outlierMinReturn: 0.05,
    /** A second outlier in a row at the new level is accepted as a regime change, not a bad print. */
    outlierRegimeAfter: 2,
    /** A feed silent for longer than this (event time) is flagged stale. */
    staleAfterUs: 60_000_000,
  },
  orderPlane: {
    /**
     * Finished orders the order plane remembers to recognise a redelivered intent. Older ones are
     * forgotten and intents decided before them are refused, so memory stays flat. Durable dedup
     * across restarts lives in the store/cache (DynamoDB conditional put, Redis SET NX).
     */
    dedupWindow: 20_000,
  },
  ofi: { intervalUs: 1_000_000 },
  costModel: {
    /** Prior for the learned model bps = a + b*spreadBps + c*volBps*sqrt(participation). */
    a: 0,
    b: 0.5,
    c: 1,
    /** Forgetting factor of the recursive least squares fit (1 = never forget). */
    forgetting: 0.999,
  },
  /** Strategy parameters, sizing and the no-trade band of the strategy plane. */
  strategyPlane: {
    smaCross: { fast: 10, slow: 30, longOnly: true },
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
  },
} as const;
