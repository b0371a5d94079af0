import * as z from 'zod';
import { DEFAULTS } from '../config/defaults.ts';
import { parseOrThrow, describeZodError } from '../domain/envelope.ts';
import { LevelSchema, type Instrument, type MarketEvent } from '../domain/market.ts';
import { nowUs, utcDay } from '../domain/time.ts';
import { OrderIntentSchema, OrderSchema, TradingState, type Fill, type Order, type OrderIntent, type PortfolioSnapshot } from '../domain/trading.ts';
import { AuditEventSchema } from '../domain/system.ts';
import type { CostFeatures, OrderPlaneSink } from '../ports/planes.ts';
import { ConfigError, ValidationError } from '../util/errors.ts';
import { CostModelStateSchema, type OnlineCostModel } from './cost-model.ts';
import { applyOrderEvent, isTerminal, openOrder } from './order-state.ts';
import { PaperBroker, type PaperBrokerOptions } from './paper-broker.ts';
import { Portfolio } from './portfolio.ts';
import { PAPER_VENUE, RiskEngine, type RiskKillSwitchState } from './risk-engine.ts';
import type { RiskLimits } from './risk-limits.ts';

export interface OrderPlaneOptions {
  accountId: string;
  initialCash: number;
  limits: RiskLimits;
  /** `slippage: true` applies `costModel`'s estimate as adverse slippage on taker fills. */
  broker: PaperBrokerOptions & { slippage?: boolean };
  instrument: (symbol: string) => Instrument;
  /** Learns transaction costs from this plane's fills (share it with the strategy plane's sizing). */
  costModel?: OnlineCostModel;
  /** Finished orders remembered for dedup (default DEFAULTS.orderPlane.dedupWindow). */
  dedupWindow?: number;
}

export type IntentOutcome = 'accepted' | 'duplicate' | 'rejected';

export interface OrderPlaneCounts {
  accepted: number;
  rejected: number;
  duplicate: number;
  fills: number;
  cancelled: number;
}

const num = z.number();
const SlotSchema = z.object({ ts: num, open: num, high: num, low: num, close: num, volume: num, bid: num, ask: num });

/** Plane state for worker restarts: the orders it remembers (the dedup set), positions, risk, working orders. */
export const OrderPlaneStateSchema = z.object({
  version: z.literal(1),
  accountId: z.string().min(1),
  lastTs: num,
  day: num,
  counts: z.object({ accepted: num, rejected: num, duplicate: num, fills: num, cancelled: num }),
  orders: z.array(OrderSchema),
  /** Intents decided at or before this time are refused: their orders may have been forgotten. */
  dedupHorizonTs: num.default(0),
  portfolio: z.object({
    accountId: z.string(),
    initialCash: num,
    cash: num,
    day: num,
    dayStartEquity: num,
    positions: z.array(
      z.object({ symbol: z.string(), multiplier: num, qty: num, avgPrice: num, realizedPnl: num, fees: num, mark: num, traded: z.boolean() }),
    ),
  }),
  risk: z.object({
    state: TradingState,
    killSwitch: z.object({ engaged: z.boolean(), reason: z.string() }),
    day: num,
    lastLoss: num,
    recentOrders: z.array(num),
    audit: z.array(AuditEventSchema),
  }),
  broker: z.object({
    working: z.array(
      z.object({ intent: OrderIntentSchema, activeTs: num, remaining: num, fillSeq: num, matchedThroughTs: num, rested: z.boolean() }),
    ),
    symbols: z.array(
      z.object({
        symbol: z.string(),
        slots: z.array(SlotSchema),
        // Kept through a restore so a state holding part of the ring (snapshot with ringSince) is refused.
        pushed: num.optional(),
        held: num.optional(),
        evictedTs: num,
        lastPrice: num,
        volVar: num,
        spreadBps: num,
        lastVolume: num,
        bids: z.array(LevelSchema),
        asks: z.array(LevelSchema),
        bookTs: num,
      }),
    ),
  }),
  costModel: CostModelStateSchema.optional(),
});
export type OrderPlaneState = z.infer<typeof OrderPlaneStateSchema>;

/**
 * The order plane: pre-trade risk, paper execution, accounting and cost learning for one account.
 * Synchronous and I/O-free; outputs go to the sink. The per-bar path with no working orders does a
 * few map lookups and arithmetic, and allocates nothing.
 */
export class OrderPlane {
  private readonly opts: OrderPlaneOptions;
  private readonly sink: OrderPlaneSink;
  private readonly orders = new Map<string, Order>();
  private pf: Portfolio;
  private readonly risk: RiskEngine;
  private readonly broker: PaperBroker;
  private readonly costs: OnlineCostModel | undefined;
  private readonly tally: OrderPlaneCounts = { accepted: 0, rejected: 0, duplicate: 0, fills: 0, cancelled: 0 };
  private readonly learnsOwnSlippage: boolean;
  private lastTs = 0;
  private readonly dedupWindow: number;
  /** Finished orders, oldest first: forgetting one is then a single map operation. */
  private readonly finished: (Order | undefined)[] = [];
  private finishedHead = 0;
  /**
   * The order recorded last, which the map holds as is (an eviction only happens while recording
   * another): an order's fill usually follows its acceptance, so this skips a lookup in a large map.
   */
  private lastRecorded: Order | undefined;
  private dedupHorizonTs = 0;
  private day = -1;

  constructor(opts: OrderPlaneOptions, sink: OrderPlaneSink) {
    this.opts = opts;
    this.sink = sink;
    this.costs = opts.costModel;
    this.dedupWindow = opts.dedupWindow ?? DEFAULTS.orderPlane.dedupWindow;
    if (!(Number.isSafeInteger(this.dedupWindow) && this.dedupWindow > 0)) throw new ConfigError(`dedupWindow must be a positive integer, got ${this.dedupWindow}`);
    this.pf = new Portfolio({ accountId: opts.accountId, initialCash: opts.initialCash, multiplier: (s) => opts.instrument(s).multiplier });
    this.risk = new RiskEngine(opts.limits, { accountId: opts.accountId, instrument: opts.instrument });
    const { slippage, ...brokerOpts } = opts.broker;
    if (slippage && !opts.costModel && !brokerOpts.slippageModel) throw new ConfigError('broker.slippage needs a costModel to estimate it from');
    const slippageModel = brokerOpts.slippageModel ?? (slippage ? opts.costModel : undefined);
    this.learnsOwnSlippage = slippageModel !== undefined && slippageModel === opts.costModel;
    this.broker = new PaperBroker({ ...brokerOpts, ...(slippageModel ? { slippageModel } : {}) }, opts.instrument, {
      fill: (fill, features, unslippedPrice) => this.onFill(fill, features, unslippedPrice),
      cancelled: (id, ts) => this.onCancelled(id, ts),
    });
  }

  /**
   * Stores an order. Finished orders are remembered for dedup up to a fixed count, then forgotten
   * oldest first, moving the dedup horizon: memory stays flat however long the plane runs.
   */
  private record(order: Order): void {
    this.orders.set(order.clientOrderId, order);
    this.lastRecorded = order;
    if (!isTerminal(order.status)) return;
    // A finished order never changes again, so the one queued is the one the map holds.
    this.finished.push(order);
    if (this.finished.length - this.finishedHead <= this.dedupWindow) return;
    const evicted = this.finished[this.finishedHead] as Order;
    this.finished[this.finishedHead++] = undefined;
    this.orders.delete(evicted.clientOrderId);
    if (evicted.createdTs > this.dedupHorizonTs) this.dedupHorizonTs = evicted.createdTs;
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished.splice(0, this.finishedHead);
      this.finishedHead = 0;
    }
  }

  onIntent(input: OrderIntent): IntentOutcome {
    const known = typeof input?.clientOrderId === 'string' ? this.orders.get(input.clientOrderId) : undefined;
    if (known) {
      this.tally.duplicate++;
      return 'duplicate';
    }
    if (typeof input?.ts === 'number' && input.ts <= this.dedupHorizonTs) {
      // Its order may be one we no longer remember: refusing is safe, accepting could trade twice.
      return this.rejectMalformed(input, `decided at ${input.ts}, at or before the dedup horizon ${this.dedupHorizonTs}; a redelivery of a forgotten order cannot be told apart`);
    }
    let intent = input;
    // Adapters parse intents with the zod schema at the bus boundary; in-process intents are typed, so
    // the full parse (microseconds) runs only when the cheap shape check finds something off, to
    // explain it or to fill defaults. Value rules (lot, tick, finite > 0) are the risk engine's.
    if (!hasIntentShape(input)) {
      const parsed = OrderIntentSchema.safeParse(input);
      if (!parsed.success) return this.rejectMalformed(input, describeZodError(parsed.error));
      intent = parsed.data;
    }
    if (intent.ts > this.lastTs) this.lastTs = intent.ts;

    const breach = this.risk.check(intent, this.pf, { pendingSameSide: this.broker.pendingQty(intent.symbol, intent.side), venue: PAPER_VENUE });
    if (breach) {
      const order = openOrder(intent, { type: 'rejected', ts: intent.ts, reason: `${breach.rule}: ${breach.message}` });
      this.record(order);
      this.tally.rejected++;
      this.sink.breach(breach);
      this.sink.execution({ order });
      return 'rejected';
    }
    const order = openOrder(intent, { type: 'accepted', ts: intent.ts, venueOrderId: `${PAPER_VENUE}-${intent.clientOrderId}` });
    this.record(order);
    this.tally.accepted++;
    this.risk.recordOrder(intent.ts);
    this.sink.execution({ order });
    this.broker.submit(intent);
    return 'accepted';
  }

  onMarket(e: MarketEvent): void {
    const ts = e.ts;
    if (ts > this.lastTs) this.lastTs = ts;
    const d = utcDay(ts);
    if (d > this.day) {
      this.day = d;
      this.pf.rollDay(ts);
    }
    this.broker.onMarket(e);
    let price = 0;
    switch (e.kind) {
      case 'bar':
        price = e.close;
        break;
      case 'quote':
        price = (e.bid + e.ask) / 2;
        break;
      case 'trade':
        price = e.price;
        break;
      case 'depth':
        price = this.broker.bookMid(e.symbol) ?? 0;
        break;
      default:
        break;
    }
    if (price > 0) this.pf.mark(e.symbol, price);
    const halt = this.risk.onDailyPnl(this.pf.dailyPnl(), ts);
    if (halt) {
      this.sink.breach(halt);
      this.broker.cancelAll(ts, halt.message);
    }
  }

  /** Engages (HALTED, working orders cancelled) or releases the kill switch; both are audited. */
  killSwitch(engaged: boolean, reason: string, ts: number = this.lastTs || nowUs()): void {
    if (!engaged) {
      this.risk.releaseKillSwitch(reason, ts);
      return;
    }
    this.risk.engageKillSwitch(reason, ts);
    this.sink.breach({ ts, accountId: this.opts.accountId, rule: 'TRADING_HALTED', message: `kill switch engaged: ${reason}`, action: 'halt' });
    this.broker.cancelAll(ts, `kill switch: ${reason}`);
  }

  killSwitchState(): Readonly<RiskKillSwitchState> {
    return this.risk.killSwitch();
  }

  tradingState(): TradingState {
    return this.risk.tradingState();
  }

  portfolio(): PortfolioSnapshot {
    return this.pf.snapshot(this.lastTs || 1, this.risk.tradingState());
  }

  /** Cheap per-bar reads (no snapshot allocation). */
  equity(): number {
    return this.pf.equity();
  }

  grossExposure(): number {
    return this.pf.grossExposure();
  }

  position(symbol: string): number {
    return this.pf.position(symbol);
  }

  knownOrder(clientOrderId: string): Order | undefined {
    return this.orders.get(clientOrderId);
  }

  costModel(): OnlineCostModel | undefined {
    return this.costs;
  }

  riskEngine(): RiskEngine {
    return this.risk;
  }

  counts(): Readonly<OrderPlaneCounts> {
    return this.tally;
  }

  /**
   * The plane's state. `ringSince` (per symbol, the broker event number to copy from) leaves out the
   * broker ring's older bars, for a checkpoint that already holds them; restore() refuses such a
   * state on its own (see PaperBroker.state).
   */
  snapshot(opts: { ringSince?: Readonly<Record<string, number>> } = {}): OrderPlaneState {
    return {
      version: 1,
      accountId: this.opts.accountId,
      lastTs: this.lastTs,
      day: this.day,
      counts: { ...this.tally },
      orders: [...this.orders.values()],
      dedupHorizonTs: this.dedupHorizonTs,
      portfolio: this.pf.state(),
      risk: this.risk.state(),
      broker: this.broker.state(opts.ringSince),
      ...(this.costs ? { costModel: this.costs.snapshot() } : {}),
    };
  }

  /** Restores a snapshot (e.g. after a worker restart); throws a ValidationError on a malformed one. */
  restore(state: unknown): void {
    const s = parseOrThrow(OrderPlaneStateSchema, state, 'OrderPlane.restore');
    if (s.accountId !== this.opts.accountId) {
      throw new ValidationError('ACCOUNT_MISMATCH', `snapshot is for account ${s.accountId}, this plane is ${this.opts.accountId}`, 'OrderPlane.restore');
    }
    this.orders.clear();
    this.lastRecorded = undefined;
    this.finished.length = 0;
    this.finishedHead = 0;
    this.dedupHorizonTs = s.dedupHorizonTs;
    for (const o of s.orders) this.record(o);
    this.pf = Portfolio.fromState(s.portfolio, (sym) => this.opts.instrument(sym).multiplier);
    this.risk.restore(s.risk);
    this.broker.restore(s.broker);
    if (this.costs && s.costModel) this.costs.restore(s.costModel);
    Object.assign(this.tally, s.counts);
    this.lastTs = s.lastTs;
    this.day = s.day;
  }

  private onFill(fill: Fill, features: CostFeatures, unslippedPrice: number): void {
    const last = this.lastRecorded;
    const before = last !== undefined && last.clientOrderId === fill.clientOrderId ? last : this.orders.get(fill.clientOrderId);
    if (!before) throw new ValidationError('UNKNOWN_ORDER', `fill ${fill.execId} for an order this plane never accepted`, 'OrderPlane');
    const order = applyOrderEvent(before, { type: 'fill', ts: fill.ts, qty: fill.qty, price: fill.price });
    this.record(order);
    this.pf.applyFill(fill);
    // When the slippage comes from this very model, learn only what the market imposed: learning the
    // simulated slippage back would make the estimate feed on itself.
    this.costs?.observe(this.learnsOwnSlippage ? { ...fill, price: unslippedPrice } : fill, features);
    this.tally.fills++;
    this.sink.execution({ order, fill });
    this.sink.portfolio?.(this.pf.snapshot(fill.ts, this.risk.tradingState()));
  }

  private onCancelled(clientOrderId: string, ts: number): void {
    const before = this.orders.get(clientOrderId);
    if (!before) return;
    const order = applyOrderEvent(before, { type: 'cancelled', ts });
    this.record(order);
    this.tally.cancelled++;
    this.sink.execution({ order });
  }

  /**
   * An intent that fails its schema still gets a breach (and, when it names an order id, a rejected
   * report and a place in the dedup set) so the sender learns its fate and a retry is a duplicate.
   */
  private rejectMalformed(input: unknown, why: string): IntentOutcome {
    const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    const text = (v: unknown, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);
    const positive = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
    const ts = Number.isInteger(raw.ts) && (raw.ts as number) > 0 ? (raw.ts as number) : this.lastTs || nowUs();
    const id = typeof raw.clientOrderId === 'string' && raw.clientOrderId.length >= 8 ? raw.clientOrderId : undefined;
    const symbol = text(raw.symbol, 'UNKNOWN');
    this.tally.rejected++;
    this.sink.breach({ ts, accountId: this.opts.accountId, rule: 'INVALID_ORDER', symbol, ...(id ? { clientOrderId: id } : {}), message: `malformed intent: ${why}`, action: 'reject' });
    if (id) {
      const order: Order = {
        clientOrderId: id,
        accountId: text(raw.accountId, this.opts.accountId),
        strategyId: text(raw.strategyId, 'unknown'),
        symbol,
        side: raw.side === 'sell' ? 'sell' : 'buy',
        qty: positive(raw.qty, 1),
        type: raw.type === 'limit' ? 'limit' : 'market',
        status: 'rejected',
        filledQty: 0,
        avgFillPrice: 0,
        decisionPrice: positive(raw.decisionPrice, 1),
        createdTs: ts,
        updatedTs: ts,
        rejectReason: `INVALID_ORDER: ${why}`,
      };
      this.record(order);
      this.sink.execution({ order });
    }
    return 'rejected';
  }
}

const SIDES = new Set(['buy', 'sell']);
const ORDER_TYPES = new Set(['market', 'limit']);
const TIME_IN_FORCE = new Set(['GTC', 'IOC', 'FOK', 'DAY']);

function isText(v: unknown, max = 256): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

/** Structural check of an intent with every schema default present; values are checked by the risk engine. */
function hasIntentShape(i: OrderIntent): boolean {
  return (
    typeof i === 'object' &&
    i !== null &&
    isText(i.clientOrderId, 64) &&
    i.clientOrderId.length >= 8 &&
    isText(i.accountId) &&
    isText(i.strategyId) &&
    isText(i.symbol, 64) &&
    Number.isSafeInteger(i.ts) &&
    i.ts > 0 &&
    SIDES.has(i.side) &&
    ORDER_TYPES.has(i.type) &&
    TIME_IN_FORCE.has(i.timeInForce) &&
    Number.isFinite(i.qty) &&
    Number.isFinite(i.decisionPrice) &&
    (i.limitPrice === undefined || Number.isFinite(i.limitPrice)) &&
    typeof i.reduceOnly === 'boolean' &&
    typeof i.reason === 'string'
  );
}
