/**
 * The persistence port of the serverless runtime, in the spirit of Powertools' persistence layer: a
 * small abstract surface with a DynamoDB and an in-memory implementation that behave identically.
 * Outcomes a caller must branch on (duplicate delivery, limit breach, lost race) are returned as
 * values; only infrastructure failures are thrown (TransientError when a retry can help).
 */
import type { AuditEvent, Fill, Order, Position, Side, Signal } from '../domain/index.ts';
import type { BacktestSummary, RiskLimitsRecord } from './schemas.ts';

/** How far an order has been processed; a redelivered intent resumes from here. */
export type OrderStage = 'claimed' | 'reserved' | 'done';

export interface StoredOrder {
  readonly order: Order;
  readonly stage: OrderStage;
}

export type ClaimOutcome =
  /** First delivery: the caller owns the order until `leaseUntilMs`. */
  | { readonly outcome: 'claimed'; readonly order: Order; readonly stage: 'claimed' }
  /** An earlier attempt died midway and its lease expired: the caller owns it again and resumes at `stage`. */
  | { readonly outcome: 'resumed'; readonly order: Order; readonly stage: OrderStage }
  /** Already fully processed: a duplicate delivery, nothing to do. */
  | { readonly outcome: 'duplicate'; readonly order: Order }
  /** Another attempt holds a live lease: retry later. */
  | { readonly outcome: 'in-progress'; readonly order: Order };

export interface ClaimOptions {
  readonly nowMs: number;
  /** How long the claimant may hold the order before a redelivery may take it over. */
  readonly leaseMs: number;
}

export interface ExposureLimits {
  /** Largest absolute position per symbol (quantity), counting every open reservation as filled. */
  readonly maxPositionQty: number;
  /** Largest absolute position value per symbol at the order's price (quantity x price), counted like maxPositionQty. */
  readonly maxPositionNotional: number;
  /** Largest gross notional across symbols, counting every open reservation as filled. */
  readonly maxGrossExposure: number;
  /** Largest |net notional| whichever of the open reservations fill. */
  readonly maxNetExposure: number;
  /** Loss of the UTC day (realised PnL net of fees) at which every order is refused. */
  readonly maxDailyLoss: number;
  /** From this fraction of maxDailyLoss on, only orders that shrink a position pass. */
  readonly reducingAtLossFraction: number;
  /** Reservations per account per UTC second of the intents' decision time. */
  readonly maxOrdersPerSecond: number;
}

export interface ReserveRequest {
  readonly accountId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly qty: number;
  /** Reference price for the reserved notional (decision or limit price). */
  readonly price: number;
  /** Event time (epoch µs): picks the UTC day whose loss counts. */
  readonly ts: number;
}

export type ReserveOutcome =
  | { readonly outcome: 'reserved' }
  /** The same clientOrderId already holds a reservation: redelivery, nothing added. */
  | { readonly outcome: 'already-reserved' }
  | {
      readonly outcome: 'rejected';
      readonly rule: 'MAX_POSITION_QTY' | 'MAX_POSITION_NOTIONAL' | 'ORDER_RATE' | 'MAX_GROSS_EXPOSURE' | 'MAX_NET_EXPOSURE' | 'MAX_DAILY_LOSS' | 'REDUCE_ONLY';
      readonly limit: number;
      /** What the usage would have become with this order. */
      readonly observed: number;
    };

export interface SettleRequest {
  readonly accountId: string;
  readonly clientOrderId: string;
  /** 0 releases the whole reservation (reject, cancel). */
  readonly filledQty: number;
  /** Average fill price; ignored when nothing filled. */
  readonly fillPrice: number;
}

export type SettleOutcome = 'settled' | 'not-reserved';

export interface SymbolExposure {
  /** Filled position plus open buy reservations. */
  readonly longUse: number;
  /** Minus the filled position plus open sell reservations. */
  readonly shortUse: number;
  readonly filledQty: number;
  /** |filledQty| marked at the last fill price. */
  readonly filledNotional: number;
}

export interface ExposureView {
  /** Filled gross notional plus every open reservation's notional. */
  readonly grossUse: number;
  /** Filled net notional plus open buy notional: the net exposure if every buy fills and no sell does. */
  readonly netLongUse: number;
  /** Minus the filled net notional plus open sell notional. */
  readonly netShortUse: number;
  readonly symbols: Readonly<Record<string, SymbolExposure>>;
  readonly openReservations: number;
}

export type RecordFillOutcome = { readonly outcome: 'recorded'; readonly position: Position } | { readonly outcome: 'duplicate' };

export interface VersionedState {
  readonly state: unknown;
  readonly version: number;
}

export type SaveStateOutcome = 'saved' | 'conflict';

export type IdempotencyOutcome =
  | { readonly status: 'new' }
  | { readonly status: 'in-progress' }
  | { readonly status: 'completed'; readonly result: unknown };

export interface IdempotencyOptions extends ClaimOptions {
  /** How long a completed result is remembered (DynamoDB TTL). */
  readonly ttlSeconds: number;
}

export interface Store {
  /** Conditional put on clientOrderId: a duplicate delivery never creates a second order. */
  claimOrder(order: Order, opts: ClaimOptions): Promise<ClaimOutcome>;
  /** Records the order's new state and processing stage (the owner's checkpoint). */
  saveOrder(order: Order, stage: OrderStage): Promise<void>;
  getOrder(accountId: string, clientOrderId: string): Promise<StoredOrder | undefined>;

  /** Stores a fill once (by execId), applying it to the position and the day's PnL in the same transaction. */
  recordFill(fill: Fill): Promise<RecordFillOutcome>;
  listFills(accountId: string, clientOrderId: string): Promise<Fill[]>;
  getPosition(accountId: string, symbol: string): Promise<Position | undefined>;
  listPositions(accountId: string): Promise<Position[]>;

  /**
   * Atomically reserves worst-case exposure against the position, gross and net limits and the day's
   * loss; concurrent reservations (from any number of processes) can never breach them.
   */
  reserveExposure(req: ReserveRequest, limits: ExposureLimits): Promise<ReserveOutcome>;
  /** Turns a reservation into filled exposure (or releases it when nothing filled). Idempotent. */
  settleExposure(req: SettleRequest): Promise<SettleOutcome>;
  getExposure(accountId: string): Promise<ExposureView>;
  /** Realised PnL net of fees of the fills of one UTC day (utcDay of the fill time); 0 when none. */
  getDailyPnl(accountId: string, day: number): Promise<number>;

  putSignal(signal: Signal): Promise<void>;
  listSignals(strategyId: string, symbol: string): Promise<Signal[]>;

  putBacktestSummary(summary: BacktestSummary): Promise<void>;
  getBacktestSummary(runId: string): Promise<BacktestSummary | undefined>;

  /** Append-only: an entry with the same id is never overwritten. */
  appendAudit(event: AuditEvent, id: string): Promise<'appended' | 'duplicate'>;
  listAudit(entity: string): Promise<AuditEvent[]>;

  putRiskLimits(accountId: string, limits: RiskLimitsRecord): Promise<void>;
  getRiskLimits(accountId: string): Promise<RiskLimitsRecord | undefined>;

  /** Transaction-cost model state (e.g. RLS coefficients), optimistic concurrency by version. */
  loadCostModel(key: string): Promise<VersionedState | undefined>;
  saveCostModel(key: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome>;

  /** Strategy warm state, optimistic concurrency by version (0 = must not exist yet). */
  loadStrategyState(key: string): Promise<VersionedState | undefined>;
  saveStrategyState(key: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome>;

  /** Powertools-style idempotency record: claim a key, then complete it with the result or release it on failure. */
  beginIdempotent(key: string, opts: IdempotencyOptions): Promise<IdempotencyOutcome>;
  completeIdempotent(key: string, result: unknown, opts: IdempotencyOptions): Promise<void>;
  releaseIdempotent(key: string): Promise<void>;
}
