/** In-memory Store with the same outcomes as the DynamoDB one: for unit tests and local runs. */
import { utcDay, type AuditEvent, type Fill, type Order, type Position, type Signal } from '../domain/index.ts';
import { judgeReservation, orderSecond, settleDeltas, ZERO_SYMBOL_EXPOSURE, type Reservation } from './exposure.ts';
import { ORDER_RATE_TTL_SECONDS } from './keys.ts';
import { applyFillToPosition } from './position.ts';
import type {
  ClaimOptions,
  ClaimOutcome,
  ExposureLimits,
  ExposureView,
  IdempotencyOptions,
  IdempotencyOutcome,
  OrderStage,
  RecordFillOutcome,
  ReserveOutcome,
  ReserveRequest,
  SaveStateOutcome,
  SettleOutcome,
  SettleRequest,
  Store,
  StoredOrder,
  SymbolExposure,
  VersionedState,
} from './port.ts';
import type { BacktestSummary, RiskLimitsRecord } from './schemas.ts';

interface OrderRecord extends StoredOrder {
  readonly leaseUntilMs: number;
}

interface AccountExposure {
  grossUse: number;
  netLongUse: number;
  netShortUse: number;
  symbols: Map<string, SymbolExposure>;
  reservations: Map<string, Reservation>;
}

/** Values are cloned in and out so callers can never mutate what the store holds. */
const clone = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  private readonly orders = new Map<string, OrderRecord>();
  private readonly fills = new Map<string, Fill>();
  private readonly positions = new Map<string, Position>();
  private readonly exposure = new Map<string, AccountExposure>();
  private readonly dailyPnl = new Map<string, number>();
  /** Reservations per `account|second`, pruned like the DynamoDB items' TTL (ORDER_RATE_TTL_SECONDS). */
  private readonly orderRate = new Map<string, { second: number; count: number }>();
  private readonly signals = new Map<string, Signal[]>();
  private readonly backtests = new Map<string, BacktestSummary>();
  private readonly audit = new Map<string, Map<string, AuditEvent>>();
  private readonly riskLimits = new Map<string, RiskLimitsRecord>();
  private readonly costModels = new Map<string, VersionedState>();
  private readonly strategyStates = new Map<string, VersionedState>();
  private readonly idempotency = new Map<string, { leaseUntilMs: number; expiresAtMs: number; result?: { value: unknown } }>();

  async claimOrder(order: Order, opts: ClaimOptions): Promise<ClaimOutcome> {
    const id = `${order.accountId}|${order.clientOrderId}`;
    const existing = this.orders.get(id);
    const leaseUntilMs = opts.nowMs + opts.leaseMs;
    if (!existing) {
      this.orders.set(id, { order: clone(order), stage: 'claimed', leaseUntilMs });
      return { outcome: 'claimed', order: clone(order), stage: 'claimed' };
    }
    if (existing.stage === 'done') return { outcome: 'duplicate', order: clone(existing.order) };
    if (existing.leaseUntilMs > opts.nowMs) return { outcome: 'in-progress', order: clone(existing.order) };
    this.orders.set(id, { ...existing, leaseUntilMs });
    return { outcome: 'resumed', order: clone(existing.order), stage: existing.stage };
  }

  async saveOrder(order: Order, stage: OrderStage): Promise<void> {
    const id = `${order.accountId}|${order.clientOrderId}`;
    this.orders.set(id, { order: clone(order), stage, leaseUntilMs: this.orders.get(id)?.leaseUntilMs ?? 0 });
  }

  async getOrder(accountId: string, clientOrderId: string): Promise<StoredOrder | undefined> {
    const r = this.orders.get(`${accountId}|${clientOrderId}`);
    return r && { order: clone(r.order), stage: r.stage };
  }

  async recordFill(fill: Fill): Promise<RecordFillOutcome> {
    const id = `${fill.accountId}|${fill.clientOrderId}|${fill.execId}`;
    if (this.fills.has(id)) return { outcome: 'duplicate' };
    const posId = `${fill.accountId}|${fill.symbol}`;
    const before = this.positions.get(posId);
    const position = applyFillToPosition(before, fill);
    this.fills.set(id, clone(fill));
    this.positions.set(posId, position);
    const dayId = `${fill.accountId}|${utcDay(fill.ts)}`;
    this.dailyPnl.set(dayId, (this.dailyPnl.get(dayId) ?? 0) + position.realizedPnl - (before?.realizedPnl ?? 0));
    return { outcome: 'recorded', position: clone(position) };
  }

  async listFills(accountId: string, clientOrderId: string): Promise<Fill[]> {
    return [...this.fills.values()].filter((f) => f.accountId === accountId && f.clientOrderId === clientOrderId).map(clone);
  }

  async getPosition(accountId: string, symbol: string): Promise<Position | undefined> {
    const p = this.positions.get(`${accountId}|${symbol}`);
    return p && clone(p);
  }

  async listPositions(accountId: string): Promise<Position[]> {
    return [...this.positions.entries()].filter(([k]) => k.startsWith(`${accountId}|`)).map(([, p]) => clone(p));
  }

  private account(accountId: string): AccountExposure {
    let acct = this.exposure.get(accountId);
    if (!acct) {
      acct = { grossUse: 0, netLongUse: 0, netShortUse: 0, symbols: new Map(), reservations: new Map() };
      this.exposure.set(accountId, acct);
    }
    return acct;
  }

  async reserveExposure(req: ReserveRequest, limits: ExposureLimits): Promise<ReserveOutcome> {
    const acct = this.account(req.accountId);
    const sym = acct.symbols.get(req.symbol) ?? ZERO_SYMBOL_EXPOSURE;
    const buy = req.side === 'buy';
    const second = orderSecond(req.ts);
    const rateKey = `${req.accountId}|${second}`;
    const refused = judgeReservation(req, limits, {
      reserved: acct.reservations.has(req.clientOrderId),
      ordersInSecond: this.orderRate.get(rateKey)?.count ?? 0,
      use: buy ? sym.longUse : sym.shortUse,
      grossUse: acct.grossUse,
      netUse: buy ? acct.netLongUse : acct.netShortUse,
      // Read synchronously: no await between judging and applying, so concurrent calls cannot interleave.
      dayPnl: this.dailyPnl.get(`${req.accountId}|${utcDay(req.ts)}`) ?? 0,
    });
    if (refused) return refused;
    this.countOrder(rateKey, second);
    const notional = req.qty * req.price;
    acct.grossUse += notional;
    if (buy) acct.netLongUse += notional;
    else acct.netShortUse += notional;
    acct.symbols.set(req.symbol, {
      ...sym,
      longUse: sym.longUse + (req.side === 'buy' ? req.qty : 0),
      shortUse: sym.shortUse + (req.side === 'sell' ? req.qty : 0),
    });
    acct.reservations.set(req.clientOrderId, { symbol: req.symbol, side: req.side, qty: req.qty, notional });
    return { outcome: 'reserved' };
  }

  private countOrder(rateKey: string, second: number): void {
    const entry = this.orderRate.get(rateKey);
    if (entry) entry.count++;
    else this.orderRate.set(rateKey, { second, count: 1 });
    if (this.orderRate.size > 4096) {
      for (const [k, e] of this.orderRate) if (e.second < second - ORDER_RATE_TTL_SECONDS) this.orderRate.delete(k);
    }
  }

  async settleExposure(req: SettleRequest): Promise<SettleOutcome> {
    const acct = this.account(req.accountId);
    const res = acct.reservations.get(req.clientOrderId);
    if (!res) return 'not-reserved';
    const sym = acct.symbols.get(res.symbol) ?? ZERO_SYMBOL_EXPOSURE;
    const d = settleDeltas(res, sym, req.filledQty, req.fillPrice);
    acct.grossUse += d.dGross;
    acct.netLongUse += d.dNetLong;
    acct.netShortUse += d.dNetShort;
    acct.symbols.set(res.symbol, {
      longUse: sym.longUse + d.dLong,
      shortUse: sym.shortUse + d.dShort,
      filledQty: d.newFilledQty,
      filledNotional: d.newFilledNotional,
    });
    acct.reservations.delete(req.clientOrderId);
    return 'settled';
  }

  async getExposure(accountId: string): Promise<ExposureView> {
    const acct = this.account(accountId);
    return { grossUse: acct.grossUse, netLongUse: acct.netLongUse, netShortUse: acct.netShortUse, symbols: Object.fromEntries(acct.symbols), openReservations: acct.reservations.size };
  }

  async getDailyPnl(accountId: string, day: number): Promise<number> {
    return this.dailyPnl.get(`${accountId}|${day}`) ?? 0;
  }

  async putSignal(signal: Signal): Promise<void> {
    const id = `${signal.strategyId}|${signal.symbol}`;
    const list = (this.signals.get(id) ?? []).filter((s) => s.ts !== signal.ts);
    list.push(clone(signal));
    list.sort((a, b) => a.ts - b.ts);
    this.signals.set(id, list);
  }

  async listSignals(strategyId: string, symbol: string): Promise<Signal[]> {
    return (this.signals.get(`${strategyId}|${symbol}`) ?? []).map(clone);
  }

  async putBacktestSummary(summary: BacktestSummary): Promise<void> {
    this.backtests.set(summary.runId, clone(summary));
  }

  async getBacktestSummary(runId: string): Promise<BacktestSummary | undefined> {
    const s = this.backtests.get(runId);
    return s && clone(s);
  }

  async appendAudit(event: AuditEvent, id: string): Promise<'appended' | 'duplicate'> {
    const log = this.audit.get(event.entity) ?? new Map<string, AuditEvent>();
    this.audit.set(event.entity, log);
    const entryKey = `${event.ts}#${id}`;
    if (log.has(entryKey)) return 'duplicate';
    log.set(entryKey, clone(event));
    return 'appended';
  }

  async listAudit(entity: string): Promise<AuditEvent[]> {
    return [...(this.audit.get(entity)?.values() ?? [])].sort((a, b) => a.ts - b.ts).map(clone);
  }

  async putRiskLimits(accountId: string, limits: RiskLimitsRecord): Promise<void> {
    this.riskLimits.set(accountId, clone(limits));
  }

  async getRiskLimits(accountId: string): Promise<RiskLimitsRecord | undefined> {
    const l = this.riskLimits.get(accountId);
    return l && clone(l);
  }

  async loadCostModel(key: string): Promise<VersionedState | undefined> {
    return loadVersioned(this.costModels, key);
  }

  async saveCostModel(key: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome> {
    return saveVersioned(this.costModels, key, state, expectedVersion);
  }

  async loadStrategyState(key: string): Promise<VersionedState | undefined> {
    return loadVersioned(this.strategyStates, key);
  }

  async saveStrategyState(key: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome> {
    return saveVersioned(this.strategyStates, key, state, expectedVersion);
  }

  async beginIdempotent(key: string, opts: IdempotencyOptions): Promise<IdempotencyOutcome> {
    const rec = this.idempotency.get(key);
    if (rec && rec.expiresAtMs > opts.nowMs) {
      if (rec.result) return { status: 'completed', result: clone(rec.result.value) };
      if (rec.leaseUntilMs > opts.nowMs) return { status: 'in-progress' };
    }
    this.idempotency.set(key, { leaseUntilMs: opts.nowMs + opts.leaseMs, expiresAtMs: opts.nowMs + opts.ttlSeconds * 1000 });
    return { status: 'new' };
  }

  async completeIdempotent(key: string, result: unknown, opts: IdempotencyOptions): Promise<void> {
    this.idempotency.set(key, { leaseUntilMs: 0, expiresAtMs: opts.nowMs + opts.ttlSeconds * 1000, result: { value: clone(result) } });
  }

  async releaseIdempotent(key: string): Promise<void> {
    this.idempotency.delete(key);
  }
}

function loadVersioned(map: Map<string, VersionedState>, key: string): VersionedState | undefined {
  const v = map.get(key);
  return v && clone(v);
}

function saveVersioned(map: Map<string, VersionedState>, key: string, state: unknown, expectedVersion: number): SaveStateOutcome {
  if ((map.get(key)?.version ?? 0) !== expectedVersion) return 'conflict';
  map.set(key, { state: clone(state), version: expectedVersion + 1 });
  return 'saved';
}
