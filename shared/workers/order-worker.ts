/**
 * Order worker: the order plane behind a work-queue durable on intents and a fan-out durable on
 * market events. Dedup on clientOrderId survives restarts because the plane's state (every order it
 * has seen) is checkpointed to Redis before inputs are acked. While Redis is unreachable exposure
 * cannot be persisted or trusted, so risk-increasing intents are rejected with EXPOSURE_UNKNOWN and
 * health reports degraded; risk-reducing ones still go through. Recovery needs no restart.
 */
import { allOf, subjects, NatsBus } from '../bus/index.ts';
import { PARTS, type RedisCache } from '../cache/index.ts';
import { ExecutionReportSchema, type ExecutionReport, type OrderIntent, type Quote } from '../domain/index.ts';
import { OrderPlane, applyOrderEvent, isTerminal, newOrder, riskLimitsFromEnv, type OrderPlaneState, type RiskLimits } from '../order-plane/index.ts';
import { PlaneWorker, type WorkerDeps } from './base.ts';
import type { CapturedPartsByHash } from './checkpoint.ts';
import { OrderParts, RingParts, type RingExtent } from './order-state.ts';
import { MarketEventPayload, OrderIntentPayload } from './payload.ts';
import { memoInstrument, WORKER_BROKER_RING } from './plane-config.ts';

/** A checkpoint from before capture times were recorded: look back as far as the EXECUTIONS duplicate window. */
const REPORT_DEDUP_WINDOW_MS = 120_000;
const CLOCK_SKEW_MS = 5_000;

/** One execution report's identity: its order, status and filled quantity (also its msgID). */
function reportKey(r: ExecutionReport): string {
  return `${r.order.clientOrderId}:${r.order.status}:${r.order.filledQty}`;
}

export interface OrderWorkerOptions {
  accountId: string;
  initialCash: number;
  limits?: RiskLimits;
}

/**
 * Checkpointed state: the plane without its orders and without the broker's bars, plus the trace id
 * of every open order so its later fills continue it. The orders (up to the dedup window, thousands)
 * and the bars (the broker's ring per symbol; `rings` says which events each holds) live in side
 * hashes written incrementally (order-state.ts).
 */
export interface OrderWorkerState {
  readonly plane: OrderPlaneState;
  readonly traces: Record<string, string>;
  /** Absent in checkpoints from before the ring had its own hash: the bars are then in the plane. */
  readonly rings?: Record<string, RingExtent>;
}

/** Side hash of the broker's bars (the orders keep the first one, PARTS). */
const RING_HASH = 'ring';

export class OrderWorker extends PlaneWorker<OrderWorkerState> {
  readonly plane: OrderPlane;
  private readonly cache: RedisCache;
  private portfolioDirty = false;
  private readonly quotes = new Map<string, Quote>();
  /** EXPOSURE_UNKNOWN rejections: the plane never saw them, a redelivery must not resurrect them. */
  private readonly gateRejected = new Set<string>();
  /** clientOrderId -> trace id of its intent, until the order is terminal. */
  private traces = new Map<string, string>();
  private readonly orderParts = new OrderParts();
  private readonly ringParts = new RingParts();
  private parts: CapturedPartsByHash | undefined;
  /** Reports published after the restored checkpoint, before the crash that replays them. */
  private readonly alreadyPublished = new Set<string>();
  /** Intents per account since the last checkpoint: the Redis rate counter is bumped once per checkpoint, not per intent. */
  private readonly intentCounts = new Map<string, number>();

  constructor(deps: WorkerDeps & { cache: RedisCache }, private readonly opts: OrderWorkerOptions) {
    super('order-worker', deps);
    this.cache = deps.cache;
    this.plane = new OrderPlane(
      {
        accountId: opts.accountId,
        initialCash: opts.initialCash,
        limits: opts.limits ?? riskLimitsFromEnv(),
        instrument: memoInstrument(),
        broker: { fillModel: 'next-bar-open', ringSize: WORKER_BROKER_RING },
      },
      {
        execution: (r) => {
          const id = r.order.clientOrderId;
          const msgId = reportKey(r);
          this.orderParts.reported(r.order);
          // Fills happen while a later bar is applied: they continue the intent's trace, not the bar's.
          // Packed per turn of the event loop (across the inputs it handled) and without a broker ack per
          // report (a JetStream request per report capped the worker); the checkpoint's flush confirms
          // them before any input is acked. A replay after a crash may pack them differently, so the
          // broker's msgID dedup cannot be relied on: reports that are already in the stream are skipped
          // here instead.
          if (!this.alreadyPublished.delete(msgId)) {
            this.emit(subjects.executions(r.order.symbol), 'exec.report.v1', r, { msgId, traceId: this.traces.get(id), fireAndForget: true, pack: 'turn' });
          }
          if (isTerminal(r.order.status)) this.traces.delete(id);
          if (r.fill) this.portfolioDirty = true;
        },
        breach: (b) => {
          deps.runtime.metrics.rejects.inc({ reason: b.rule });
          // No broker ack per breach (a behind-the-market worker may refuse thousands): the checkpoint's flush confirms it, its own msgID dedups a replay.
          this.emit(subjects.notifications('risk'), 'risk.breach.v1', b, { msgId: `${b.rule}:${b.clientOrderId ?? ''}:${b.ts}`, fireAndForget: true });
        },
      },
    );
    deps.runtime.addCheck({
      name: 'redis',
      check: () =>
        this.cache.available
          ? { status: 'ok' }
          : { status: 'degraded', detail: `redis unavailable (${this.cache.lastError}): rejecting risk-increasing orders with EXPOSURE_UNKNOWN` },
    });
  }

  protected override get stateKey(): string {
    return `order-worker:${this.opts.accountId}`;
  }

  protected snapshot(): OrderWorkerState {
    // Only the bars the ring hash lacks are copied out of the broker (a copy of the whole ring per checkpoint grew with it).
    const plane = this.plane.snapshot({ ringSince: this.ringParts.since() });
    const orders = this.orderParts.capture(this.plane, plane.orders);
    const ring = this.ringParts.capture(plane.broker.symbols);
    this.parts = { [PARTS]: orders, [RING_HASH]: ring.parts };
    return { plane: { ...plane, orders: [], broker: { ...plane.broker, symbols: ring.symbols } }, traces: Object.fromEntries(this.traces), rings: ring.extents };
  }

  protected override captureParts(): CapturedPartsByHash | undefined {
    return this.parts;
  }

  protected override get partHashes(): readonly string[] {
    return [PARTS, RING_HASH];
  }

  protected override onCheckpointFailed(): void {
    this.orderParts.failed();
    this.ringParts.failed();
  }

  protected restorePlane(state: OrderWorkerState, parts: Readonly<Record<string, Record<string, string>>>): void {
    const orders = this.orderParts.restore(parts[PARTS] ?? {});
    const symbols = state.rings ? this.ringParts.restore(state.plane.broker.symbols, state.rings, parts[RING_HASH] ?? {}) : state.plane.broker.symbols;
    this.plane.restore({ ...state.plane, orders, broker: { ...state.plane.broker, symbols } });
    // The plane holds parsed copies: its own objects are the ones later reports will be compared with.
    this.orderParts.restored(this.plane.snapshot().orders);
    this.traces = new Map(Object.entries(state.traces));
  }

  protected override async onCheckpoint(): Promise<void> {
    if (this.portfolioDirty) {
      // Taken here, once per checkpoint, not per fill: only the latest is published.
      const snap = this.plane.portfolio();
      this.portfolioDirty = false;
      await this.cache.setPortfolio(snap);
      this.emit(subjects.portfolio(snap.accountId), 'exec.portfolio.v1', snap, { msgId: `${snap.accountId}:${snap.ts}:${snap.realizedPnl}:${snap.positions.length}` });
    }
    for (const q of this.quotes.values()) await this.cache.setQuote(q);
    this.quotes.clear();
    for (const [account, n] of this.intentCounts) {
      await this.cache.incrRate(`intents:${account}`, 1, n).catch((err: unknown) => this.deps.runtime.logger.log('warn', 'intent rate counter not updated', { error: String(err) }));
    }
    this.intentCounts.clear();
  }

  async start(): Promise<void> {
    await this.deps.bus.assertProvisioned([allOf('intents'), allOf('marketEvents'), subjects.executions('X'), subjects.portfolio(this.opts.accountId)]);
    await this.restore();
    if (this.restoredCapture !== undefined && this.deps.bus instanceof NatsBus) {
      // Capture time from this host's clock, stream times from the server's: a margin for the skew.
      const since = new Date((this.restoredCapture || Date.now() - REPORT_DEDUP_WINDOW_MS) - CLOCK_SKEW_MS);
      for (const env of await this.deps.bus.envelopesSince('EXECUTIONS', allOf('executions'), since)) {
        const r = ExecutionReportSchema.safeParse(env.data);
        if (r.success) this.alreadyPublished.add(reportKey(r.data));
      }
      this.deps.runtime.logger.log('info', 'reports already published since the checkpoint', { count: this.alreadyPublished.size });
    }
    await this.awaitRedeliveries('MARKET', 'order-worker');
    await this.awaitRedeliveries('ORDERS', 'order-worker');
    await this.consume('market', allOf('marketEvents'), 'order-worker', MarketEventPayload, (e) => {
      this.plane.onMarket(e);
      if (e.kind === 'quote') this.quotes.set(e.symbol, e);
    });
    await this.consume('intents', allOf('intents'), 'order-worker', OrderIntentPayload, (intent, env) => this.onIntent(intent, env.trace_id));
  }

  private onIntent(intent: OrderIntent, traceId: string): void {
    const log = this.deps.runtime.logger;
    if (this.gateRejected.has(intent.clientOrderId) || this.plane.knownOrder(intent.clientOrderId)) {
      this.deps.runtime.metrics.rejects.inc({ reason: 'DUPLICATE' });
      if (log.enabled('debug')) log.log('debug', 'rejected', { trace_id: traceId, reason: 'DUPLICATE', client_order_id: intent.clientOrderId });
      return;
    }
    if (!this.cache.available && this.increasesRisk(intent)) {
      this.gateRejected.add(intent.clientOrderId);
      this.deps.runtime.metrics.rejects.inc({ reason: 'EXPOSURE_UNKNOWN' });
      if (log.enabled('debug')) log.log('debug', 'rejected', { trace_id: traceId, reason: 'EXPOSURE_UNKNOWN', client_order_id: intent.clientOrderId });
      const order = applyOrderEvent(newOrder(intent), { type: 'rejected', ts: intent.ts, reason: 'EXPOSURE_UNKNOWN: position cache unreachable, risk-increasing orders refused' });
      this.emit(subjects.executions(intent.symbol), 'exec.report.v1', { order }, { msgId: `${intent.clientOrderId}:rejected:0` });
      return;
    }
    this.traces.set(intent.clientOrderId, traceId);
    this.plane.onIntent(intent);
    this.intentCounts.set(intent.accountId, (this.intentCounts.get(intent.accountId) ?? 0) + 1);
  }

  private increasesRisk(i: OrderIntent): boolean {
    const pos = this.plane.position(i.symbol);
    const after = pos + (i.side === 'buy' ? i.qty : -i.qty);
    return Math.abs(after) > Math.abs(pos) || Math.sign(after) * Math.sign(pos) < 0;
  }
}
