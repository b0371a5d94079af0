/**
 * Single-table item layout (pk/sk, gsi1pk/gsi1sk, ttl). Keys are built here only, so the layout can
 * be read in one place. Timestamps in sort keys are zero-padded so lexical order is time order.
 */
export const key = {
  account: (accountId: string) => `ACCT#${accountId}`,
  order: (clientOrderId: string) => `ORDER#${clientOrderId}`,
  fillPrefix: (clientOrderId: string) => `FILL#${clientOrderId}#`,
  fill: (clientOrderId: string, execId: string) => `FILL#${clientOrderId}#${execId}`,
  positionPrefix: 'POS#',
  position: (symbol: string) => `POS#${symbol}`,
  exposure: 'EXPOSURE',
  /** Realised PnL net of fees of one UTC day (utcDay number), for the daily-loss limit. */
  dailyPnl: (day: number) => `PNL#${day}`,
  /** Reservations of one UTC second (epoch seconds of the intents' decision time), for the order-rate limit. */
  orderRate: (second: number) => `RATE#${second}`,
  riskLimits: 'RISK_LIMITS',
  signals: (strategyId: string, symbol: string) => `SIGNAL#${strategyId}#${symbol}`,
  backtest: (runId: string) => `BACKTEST#${runId}`,
  backtestIndex: 'BACKTESTS',
  summary: 'SUMMARY',
  audit: (entity: string) => `AUDIT#${entity}`,
  auditEntry: (ts: number, id: string) => `${padTs(ts)}#${id}`,
  costModel: (k: string) => `COSTMODEL#${k}`,
  strategyState: (k: string) => `STRATEGY#${k}`,
  state: 'STATE',
  idempotency: (k: string) => `IDEMPOTENCY#${k}`,
  /** Orders by symbol and time, for the order blotter. */
  ordersBySymbol: (accountId: string, symbol: string) => `ORDERS#${accountId}#${symbol}`,
} as const;

/** Per-symbol and per-reservation attribute names on the account's exposure item. */
export const exposureAttr = {
  gross: 'grossUse',
  netLong: 'netLongUse',
  netShort: 'netShortUse',
  long: (symbol: string) => `long#${symbol}`,
  short: (symbol: string) => `short#${symbol}`,
  filledQty: (symbol: string) => `fq#${symbol}`,
  filledNotional: (symbol: string) => `fn#${symbol}`,
  version: (symbol: string) => `ver#${symbol}`,
  reservation: (clientOrderId: string) => `res#${clientOrderId}`,
} as const;

export function padTs(ts: number): string {
  return String(Math.trunc(ts)).padStart(17, '0');
}

/** Order-rate counters only matter within their second; a day leaves room for late redeliveries. */
export const ORDER_RATE_TTL_SECONDS = 86_400;

/** Signals are a time series; keep 30 days (DynamoDB TTL is epoch seconds). */
export const SIGNAL_TTL_SECONDS = 30 * 86_400;
