import * as z from 'zod';
import { finite, nonNegative, price, quantity, timestampUs } from './numbers.ts';
import { Side, Symbol } from './market.ts';

export const SignalSchema = z.object({
  strategyId: z.string().min(1),
  symbol: Symbol,
  ts: timestampUs,
  /** Desired exposure direction and conviction in [-1, 1]: 1 = fully long, -1 = fully short, 0 = flat. */
  strength: finite.refine((v) => v >= -1 && v <= 1, { message: 'strength must lie in [-1, 1]' }),
  /** Reference price at decision time (last close / mid). */
  price,
  reason: z.string().default(''),
});
export type Signal = Readonly<z.infer<typeof SignalSchema>>;

export const TargetPositionSchema = z.object({
  strategyId: z.string().min(1),
  symbol: Symbol,
  ts: timestampUs,
  targetQty: finite,
  price,
});
export type TargetPosition = Readonly<z.infer<typeof TargetPositionSchema>>;

export const OrderType = z.enum(['market', 'limit']);
export type OrderType = z.infer<typeof OrderType>;
export const TimeInForce = z.enum(['GTC', 'IOC', 'FOK', 'DAY']);

export const OrderIntentSchema = z
  .object({
    /** Deterministic hash of the decision: the same decision always yields the same id (see clientOrderId()). */
    clientOrderId: z.string().min(8).max(64),
    accountId: z.string().min(1),
    strategyId: z.string().min(1),
    symbol: Symbol,
    /** Decision time. */
    ts: timestampUs,
    side: Side,
    qty: quantity,
    type: OrderType,
    limitPrice: price.optional(),
    timeInForce: TimeInForce.default('GTC'),
    /** Price the decision was made at (arrival price for implementation shortfall). */
    decisionPrice: price,
    /** True when the order only reduces an existing position (allowed while REDUCING). */
    reduceOnly: z.boolean().default(false),
    reason: z.string().default(''),
  })
  .refine((i) => i.type === 'market' || i.limitPrice !== undefined, { message: 'limit orders need limitPrice', path: ['limitPrice'] });
export type OrderIntent = Readonly<z.infer<typeof OrderIntentSchema>>;

export const OrderStatus = z.enum(['new', 'accepted', 'partially_filled', 'filled', 'cancelled', 'rejected']);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const OrderSchema = z.object({
  clientOrderId: z.string().min(8).max(64),
  accountId: z.string().min(1),
  strategyId: z.string().min(1),
  symbol: Symbol,
  side: Side,
  qty: quantity,
  type: OrderType,
  limitPrice: price.optional(),
  status: OrderStatus,
  filledQty: nonNegative,
  avgFillPrice: nonNegative,
  decisionPrice: price,
  createdTs: timestampUs,
  updatedTs: timestampUs,
  venueOrderId: z.string().optional(),
  rejectReason: z.string().optional(),
});
export type Order = Readonly<z.infer<typeof OrderSchema>>;

export const Liquidity = z.enum(['maker', 'taker']);

export const FillSchema = z.object({
  execId: z.string().min(1),
  clientOrderId: z.string().min(8).max(64),
  accountId: z.string().min(1),
  strategyId: z.string().min(1),
  symbol: Symbol,
  side: Side,
  qty: quantity,
  price,
  fee: finite,
  liquidity: Liquidity,
  ts: timestampUs,
  /** Mid price when the decision was made: the benchmark for implementation shortfall. */
  arrivalPrice: price,
});
export type Fill = Readonly<z.infer<typeof FillSchema>>;

/** Execution report: the order's new state plus the fill that caused it, if any. */
export const ExecutionReportSchema = z.object({
  order: OrderSchema,
  fill: FillSchema.optional(),
});
export type ExecutionReport = Readonly<{ order: Order; fill?: Fill }>;

export const PositionSchema = z.object({
  symbol: Symbol,
  /** Signed: > 0 long, < 0 short. */
  qty: finite,
  avgPrice: nonNegative,
  realizedPnl: finite,
  unrealizedPnl: finite,
  lastPrice: nonNegative,
  fees: finite,
});
export type Position = Readonly<z.infer<typeof PositionSchema>>;

export const TradingState = z.enum(['ACTIVE', 'REDUCING', 'HALTED']);
export type TradingState = z.infer<typeof TradingState>;

export const PortfolioSnapshotSchema = z.object({
  accountId: z.string().min(1),
  ts: timestampUs,
  cash: finite,
  equity: finite,
  grossExposure: nonNegative,
  netExposure: finite,
  realizedPnl: finite,
  unrealizedPnl: finite,
  fees: finite,
  dailyPnl: finite,
  tradingState: TradingState,
  positions: z.array(PositionSchema),
});
export type PortfolioSnapshot = Readonly<z.infer<typeof PortfolioSnapshotSchema>>;

export const RiskRule = z.enum([
  'MAX_POSITION_QTY',
  'MAX_POSITION_NOTIONAL',
  'MAX_GROSS_EXPOSURE',
  'MAX_NET_EXPOSURE',
  'MAX_DAILY_LOSS',
  'MAX_ORDER_NOTIONAL',
  'PRICE_COLLAR',
  'ORDER_RATE',
  'RESTRICTED_SYMBOL',
  'TRADING_HALTED',
  'REDUCE_ONLY',
  'EXPOSURE_UNKNOWN',
  'LIVE_TRADING_DISABLED',
  'INVALID_ORDER',
]);
export type RiskRule = z.infer<typeof RiskRule>;

export const RiskBreachSchema = z.object({
  ts: timestampUs,
  accountId: z.string().min(1),
  rule: RiskRule,
  symbol: Symbol.optional(),
  clientOrderId: z.string().optional(),
  limit: finite.optional(),
  observed: finite.optional(),
  message: z.string(),
  action: z.enum(['reject', 'halt']),
});
export type RiskBreach = Readonly<z.infer<typeof RiskBreachSchema>>;
