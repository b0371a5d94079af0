/**
 * The contracts between the three planes. Plane logic is synchronous and free of I/O so the same code
 * runs in the in-process backtest, in a local worker and in a Lambda handler; only the adapters that
 * feed a plane and carry its outputs differ (in-process bus, NATS/Kafka, Kinesis/SQS).
 */
import type {
  Bar,
  DepthUpdate,
  ExecutionReport,
  Fill,
  Instrument,
  MarketEvent,
  Ofi,
  OrderIntent,
  PortfolioSnapshot,
  Quote,
  RiskBreach,
  Signal,
  TargetPosition,
  Trade,
} from '../domain/index.ts';
import type { QuarantineEntry } from '../domain/system.ts';

/** Where the data plane sends what it produces. */
export interface DataPlaneSink {
  market(event: MarketEvent): void;
  quarantine(entry: QuarantineEntry): void;
}

/** Where the strategy plane sends what it produces. */
export interface StrategyPlaneSink {
  signal(signal: Signal): void;
  target(target: TargetPosition): void;
  intent(intent: OrderIntent): void;
}

/** Where the order plane sends what it produces. */
export interface OrderPlaneSink {
  execution(report: ExecutionReport): void;
  breach(breach: RiskBreach): void;
  /** After each fill; optional because building a snapshot costs an allocation per position. */
  portfolio?(snapshot: PortfolioSnapshot): void;
}

/** What a strategy may ask while handling an event. */
export interface StrategyContext {
  /** Filled position (signed). */
  position(symbol: string): number;
  instrument(symbol: string): Instrument;
  /** Emit a signal in [-1, 1]; portfolio construction turns it into a target and an intent. */
  signal(symbol: string, ts: number, strength: number, price: number, reason?: string): void;
}

/**
 * One strategy interface for backtest and live. Handlers are optional; a strategy only implements
 * the events it needs. Strategies hold their own state and must be deterministic given the events.
 */
export interface Strategy {
  readonly id: string;
  /** The parameters in force, defaults included, for reports and logs. */
  readonly params?: Readonly<object>;
  onBar?(bar: Bar, ctx: StrategyContext): void;
  onQuote?(quote: Quote, ctx: StrategyContext): void;
  onTrade?(trade: Trade, ctx: StrategyContext): void;
  onDepth?(depth: DepthUpdate, ctx: StrategyContext): void;
  onOfi?(ofi: Ofi, ctx: StrategyContext): void;
  onFill?(fill: Fill, ctx: StrategyContext): void;
  /** Serializable warm state (indicator windows) so a restarted worker resumes where it left off. */
  snapshot?(): unknown;
  restore?(state: unknown): void;
}

/** Market conditions a cost estimate depends on. */
export interface CostFeatures {
  /** Quoted spread in basis points of mid (0 when unknown, e.g. bar data). */
  spreadBps: number;
  /** Recent volatility of returns, in basis points per bar/interval. */
  volBps: number;
  /** Order quantity divided by recent traded volume per bar/interval (0..1+). */
  participation: number;
}

/** The transaction-cost model as seen by portfolio sizing and the paper broker. */
export interface CostEstimator {
  /** Expected one-way cost in basis points (implementation shortfall vs arrival mid). */
  estimateBps(symbol: string, features: CostFeatures): number;
}

/** Read-only L2 book as the paper broker walks it: levels best first. */
export interface BookView {
  levels(side: 'bid' | 'ask'): readonly (readonly [price: number, size: number])[];
}
