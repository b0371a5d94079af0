import * as z from 'zod';
import { DEFAULTS } from '../config/defaults.ts';
import { describeZodError } from '../domain/envelope.ts';
import { execId } from '../domain/ids.ts';
import type { DepthUpdate, Instrument, MarketEvent } from '../domain/market.ts';
import { roundDownToStep, roundToStep } from '../domain/numbers.ts';
import { utcDay } from '../domain/time.ts';
import type { Fill, OrderIntent } from '../domain/trading.ts';
import type { CostEstimator, CostFeatures } from '../ports/planes.ts';
import { ConfigError, ValidationError } from '../util/errors.ts';
import { OrderBook } from '../data-plane/order-book.ts';

export const FillModel = z.enum(['next-bar-open', 'quote', 'book']);
export type FillModel = z.infer<typeof FillModel>;

/** Bars/quotes kept per symbol so a late intent still fills against the first event after its decision. */
const DEFAULT_RING_SIZE = 16;
/** Weight of the newest squared return in the volatility EWMA (about a 40-event memory). */
const VOL_EWMA_ALPHA = 0.05;

const finiteNumber = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

export const PaperBrokerOptionsSchema = z.object({
  fillModel: FillModel.default(DEFAULTS.backtest.fillModel),
  /** Fees in basis points of notional; a negative maker fee is a rebate. */
  makerFeeBps: finiteNumber.default(DEFAULTS.backtest.makerFeeBps),
  takerFeeBps: finiteNumber.default(DEFAULTS.backtest.takerFeeBps),
  /** An order becomes active (matchable) at intent ts + latencyUs. */
  latencyUs: z.number().int().nonnegative().default(DEFAULTS.backtest.latencyUs),
  /** Fixed adverse slippage on taker fills when no slippage model is given. */
  slippageBps: finiteNumber.refine((v) => v >= 0, { message: 'must be >= 0' }).default(0),
  /** Cap each bar fill at this fraction of the bar's volume; unset = no cap. */
  maxParticipation: z.number().refine((v) => v > 0 && v <= 1, { message: 'must lie in (0, 1]' }).optional(),
  ringSize: z.number().int().positive().default(DEFAULT_RING_SIZE),
});
export type PaperBrokerOptions = z.input<typeof PaperBrokerOptionsSchema> & {
  /**
   * Slippage model for taker fills (bps, applied adversely). Do not pass a model that learns from this
   * broker's own fills: slippage it adds would be learned back as cost and feed on itself.
   */
  slippageModel?: CostEstimator;
};

export interface BrokerListener {
  /**
   * `features`: the market conditions the fill traded in; `unslippedPrice`: its price before the
   * broker's simulated slippage, so a cost model that drives that slippage does not learn it back.
   */
  fill(fill: Fill, features: CostFeatures, unslippedPrice: number): void;
  cancelled(clientOrderId: string, ts: number, reason: string): void;
}

export interface WorkingOrderState {
  intent: OrderIntent;
  activeTs: number;
  remaining: number;
  fillSeq: number;
  /** Market events at or before this time were already matched (or precede activation). */
  matchedThroughTs: number;
  /** Set after the first matching attempt: a limit that rested and then fills is a maker. */
  rested: boolean;
}

interface Working extends WorkingOrderState {
  done: boolean;
}

/** A bar or quote as the ring holds it: copied in, as producers may reuse their event objects. */
interface Slot {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  bid: number;
  ask: number;
}

interface Match {
  qty: number;
  price: number;
  taker: boolean;
  /** Volume the fill participated in (0 when unknown), for cost features. */
  volume: number;
}

/** Doubles per ring slot, in Slot's order: ts, open, high, low, close, volume, bid, ask. */
const SLOT_FIELDS = 8;

class SymbolState {
  /**
   * The ring's events, SLOT_FIELDS doubles (64 bytes) each: a third of what an object per slot took,
   * so a worker's ring holds four times the history in the same memory.
   */
  private readonly ring: Float64Array;
  private readonly capacity: number;
  head = 0;
  count = 0;
  /** Events ever pushed into the ring (since construction or restore): positions for incremental snapshots. */
  pushed = 0;
  /** Time of the newest event pushed out of the ring; an order active before it may have missed its event. */
  evictedTs = 0;
  book: OrderBook | undefined;
  /** Orders that may match the next event, in the order they became so. */
  working: Working[] = [];
  /**
   * Orders active after every event seen so far, by active time (from `waitingHead`): they join
   * `working` when an event after them arrives. A worker behind the market holds thousands of
   * these; every event walking them all made its cost grow with its lag.
   */
  waiting: Working[] = [];
  waitingHead = 0;
  /**
   * Unfilled quantity of the orders open on each side, and their count: kept as orders open, fill
   * and end (a sum over every open order per intent grew with the number waiting). Back to exactly
   * 0 when a side has no open order, so rounding cannot build up across them.
   */
  private readonly pending = { buy: 0, sell: 0 };
  private readonly open = { buy: 0, sell: 0 };
  lastPrice = 0;
  volVar = 0;
  spreadBps = 0;
  lastVolume = 0;
  /** Until `pushed` reaches this, the ring may hold an event older than one pushed before it. */
  private unorderedUntil = 0;
  private newestTs = -Infinity;

  constructor(ringSize: number) {
    this.capacity = ringSize;
    this.ring = new Float64Array(ringSize * SLOT_FIELDS);
  }

  pendingQty(side: 'buy' | 'sell'): number {
    return this.pending[side];
  }

  /** `orders`: +1 when an order opens, -1 when it ends, 0 for a partial fill. */
  addPending(side: 'buy' | 'sell', qty: number, orders: number): void {
    this.open[side] += orders;
    this.pending[side] = this.open[side] === 0 ? 0 : this.pending[side] + qty;
  }

  /** Appends an event, evicting the oldest when full (a bar leaves bid and ask 0, a quote open to volume). */
  push(ts: number, open: number, high: number, low: number, close: number, volume: number, bid: number, ask: number): void {
    const cap = this.capacity;
    const r = this.ring;
    if (this.count === cap) {
      this.evictedTs = r[this.head * SLOT_FIELDS];
      this.head = (this.head + 1) % cap;
      this.count--;
    }
    const o = ((this.head + this.count) % cap) * SLOT_FIELDS;
    r[o] = ts;
    r[o + 1] = open;
    r[o + 2] = high;
    r[o + 3] = low;
    r[o + 4] = close;
    r[o + 5] = volume;
    r[o + 6] = bid;
    r[o + 7] = ask;
    this.count++;
    this.pushed++;
    // An event older than its predecessor leaves the ring out of time order until it has been evicted.
    if (ts < this.newestTs) this.unorderedUntil = this.pushed + cap;
    else this.newestTs = ts;
  }

  /**
   * Index of the first slot that may be later than `ts`. In time order that is the suffix after the
   * newest slot at or before `ts`, so an intent that arrives in time walks no history; out of order,
   * the whole ring. Found by bisection: a worker that lags the market submits orders thousands of
   * events back, and a walk back to them was the order worker's largest cost at 40,000 ticks/s.
   */
  firstAfter(ts: number): number {
    if (this.pushed < this.unorderedUntil) return 0;
    if (this.count === 0 || this.tsAt(this.count - 1) <= ts) return this.count;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tsAt(mid) > ts) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Whether an event later than `ts` has been seen (at any point of the ring). */
  seenAfter(ts: number): boolean {
    return this.newestTs > ts;
  }

  /** Queues an order no event has reached yet, keeping the queue in active-time order. */
  wait(w: Working): void {
    let i = this.waiting.length;
    while (i > this.waitingHead && this.waiting[i - 1].activeTs > w.activeTs) i--;
    this.waiting.splice(i, 0, w);
  }

  /** Moves the waiting orders that an event at `ts` reaches into `working`. */
  activate(ts: number): void {
    const q = this.waiting;
    while (this.waitingHead < q.length && q[this.waitingHead].activeTs < ts) {
      const w = q[this.waitingHead++];
      if (!w.done) this.working.push(w);
    }
    if (this.waitingHead === q.length) {
      q.length = 0;
      this.waitingHead = 0;
    } else if (this.waitingHead > 1_024 && this.waitingHead * 2 > q.length) {
      q.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /** Whether any order could match an event. */
  hasOrders(): boolean {
    return this.working.length > 0 || this.waitingHead < this.waiting.length;
  }

  tsAt(i: number): number {
    return this.ring[((this.head + i) % this.capacity) * SLOT_FIELDS];
  }

  /** The i-th oldest event, copied out (a fill may submit an order that reads the ring meanwhile). */
  at(i: number): Slot {
    const r = this.ring;
    const o = ((this.head + i) % this.capacity) * SLOT_FIELDS;
    return { ts: r[o], open: r[o + 1], high: r[o + 2], low: r[o + 3], close: r[o + 4], volume: r[o + 5], bid: r[o + 6], ask: r[o + 7] };
  }

  /** The newest event, copied out. */
  newest(): Slot {
    return this.at(this.count - 1);
  }

  observePrice(price: number): void {
    if (this.lastPrice > 0) {
      // Simple return: at bar-to-bar scale it equals the log return to well under a basis point.
      const r = price / this.lastPrice - 1;
      this.volVar = this.volVar === 0 ? r * r : VOL_EWMA_ALPHA * r * r + (1 - VOL_EWMA_ALPHA) * this.volVar;
    }
    this.lastPrice = price;
  }
}

export interface PaperBrokerState {
  working: WorkingOrderState[];
  /**
   * `pushed`: events ever pushed into the ring, so `slots` are the events numbered pushed - slots.length
   * to pushed - 1 (a checkpoint can then write only the slots added since the last one). Not restored:
   * numbering starts again from the restored slots. `held`: how many the ring holds (more than
   * `slots` when state() was asked for the newer ones only).
   */
  symbols: { symbol: string; slots: Slot[]; pushed?: number; held?: number; evictedTs: number; lastPrice: number; volVar: number; spreadBps: number; lastVolume: number; bids: [number, number][]; asks: [number, number][]; bookTs: number }[];
}

/**
 * Simulated execution. Fill models:
 * - 'next-bar-open': market orders fill at the open of the first bar with ts > active time; limits
 *   fill when a bar trades through them, at the limit or a better open.
 * - 'quote': market orders take the opposite side of the first quote after active time; limits fill
 *   when the quote crosses them (at the quote if marketable on arrival, else at the limit).
 * - 'book': walk the L2 levels best first; one fill per book state at the VWAP of the levels taken.
 * Bars/quotes are kept in a small ring per symbol, so an intent that arrives after later events were
 * seen fills exactly as if it had arrived in time: results do not depend on arrival order.
 */
export class PaperBroker {
  readonly options: Readonly<z.output<typeof PaperBrokerOptionsSchema>>;
  private readonly slippageModel: CostEstimator | undefined;
  private readonly instrument: (symbol: string) => Instrument;
  private readonly listener: BrokerListener;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly byId = new Map<string, Working>();
  private lastSymbol = '';
  private lastState: SymbolState | undefined;

  constructor(opts: PaperBrokerOptions, instrument: (symbol: string) => Instrument, listener: BrokerListener) {
    const parsed = PaperBrokerOptionsSchema.safeParse(opts);
    if (!parsed.success) throw new ConfigError(`invalid paper broker options: ${describeZodError(parsed.error)}`);
    this.options = parsed.data;
    this.slippageModel = opts.slippageModel;
    this.instrument = instrument;
    this.listener = listener;
  }

  workingCount(): number {
    return this.byId.size;
  }

  working(clientOrderId: string): Readonly<WorkingOrderState> | undefined {
    return this.byId.get(clientOrderId);
  }

  /** Remaining working quantity for a symbol on one side (counts towards risk's post-trade position). */
  pendingQty(symbol: string, side: 'buy' | 'sell'): number {
    return this.symbols.get(symbol)?.pendingQty(side) ?? 0;
  }

  /** Mid of the broker's L2 book for a symbol, when it has one. */
  bookMid(symbol: string): number | undefined {
    return this.symbols.get(symbol)?.book?.mid();
  }

  /** Accepts an order; it may fill at once against events already seen after its active time. */
  submit(intent: OrderIntent): void {
    if (this.byId.has(intent.clientOrderId)) return;
    const activeTs = intent.ts + this.options.latencyUs;
    const w: Working = { intent, activeTs, remaining: intent.qty, fillSeq: 0, matchedThroughTs: activeTs, rested: false, done: false };
    const s = this.sym(intent.symbol);
    if (s.evictedTs > activeTs) {
      this.listener.cancelled(intent.clientOrderId, s.evictedTs, `order active at ${activeTs} is older than the broker's market history (ring of ${this.options.ringSize})`);
      return;
    }
    this.byId.set(intent.clientOrderId, w);
    s.addPending(intent.side, intent.qty, 1);
    if (this.options.fillModel === 'book') {
      s.working.push(w);
      if (s.book && s.book.ts() > activeTs) this.matchBook(s, w, s.book.ts());
    } else if (!s.seenAfter(activeTs)) {
      s.wait(w);
      return;
    } else {
      s.working.push(w);
      for (let i = s.firstAfter(w.matchedThroughTs); i < s.count && !w.done; i++) {
        const slot = s.at(i);
        if (slot.ts > w.matchedThroughTs) this.matchSlot(s, w, slot);
      }
    }
    this.compact(s);
  }

  cancel(clientOrderId: string, ts: number, reason: string): boolean {
    const w = this.byId.get(clientOrderId);
    if (!w || w.done) return false;
    this.finish(w, ts, reason);
    const s = this.symbols.get(w.intent.symbol);
    if (s) this.compact(s);
    return true;
  }

  /** Cancels every working order (kill switch, halt). */
  cancelAll(ts: number, reason: string): void {
    for (const w of [...this.byId.values()]) this.cancel(w.intent.clientOrderId, ts, reason);
  }

  /** Per-event path: O(1) and allocation-free unless an order is working on the symbol. */
  onMarket(e: MarketEvent): void {
    const model = this.options.fillModel;
    switch (e.kind) {
      case 'bar': {
        const s = this.sym(e.symbol);
        if (model === 'next-bar-open') {
          s.push(e.ts, e.open, e.high, e.low, e.close, e.volume, 0, 0);
          if (s.hasOrders()) this.matchWorking(s, s.newest());
        }
        // After matching: a fill at this bar's open must not see its close in its cost features.
        s.observePrice(e.close);
        s.lastVolume = e.volume;
        return;
      }
      case 'quote': {
        const s = this.sym(e.symbol);
        const mid = (e.bid + e.ask) / 2;
        s.observePrice(mid);
        s.spreadBps = ((e.ask - e.bid) / mid) * 1e4;
        if (model !== 'quote') return;
        s.push(e.ts, 0, 0, 0, 0, 0, e.bid, e.ask);
        if (s.hasOrders()) this.matchWorking(s, s.newest());
        return;
      }
      case 'depth': {
        const s = this.sym(e.symbol);
        this.applyDepth(s, e);
        if (model !== 'book' || s.working.length === 0) return;
        for (const w of s.working) if (!w.done && e.ts > w.matchedThroughTs) this.matchBook(s, w, e.ts);
        this.compact(s);
        return;
      }
      default:
        return;
    }
  }

  /**
   * `ringSince`: per symbol, the number of the first event to copy into `slots` (see `pushed`): an
   * incremental checkpoint that has the older ones needs no copy of the whole ring. Such a state
   * lacks history: restore() takes whole ones only.
   */
  state(ringSince?: Readonly<Record<string, number>>): PaperBrokerState {
    return {
      working: [...this.byId.values()].filter((w) => !w.done).map(({ done: _done, ...w }) => ({ ...w })),
      symbols: [...this.symbols.entries()].map(([sym, s]) => {
        const since = ringSince?.[sym];
        const n = since === undefined ? s.count : Math.max(0, Math.min(s.count, s.pushed - since));
        return {
          symbol: sym,
          slots: Array.from({ length: n }, (_, i) => s.at(s.count - n + i)),
          pushed: s.pushed,
          held: s.count,
          evictedTs: s.evictedTs,
          lastPrice: s.lastPrice,
          volVar: s.volVar,
          spreadBps: s.spreadBps,
          lastVolume: s.lastVolume,
          bids: s.book ? s.book.levels('bid').map((l): [number, number] => [l[0], l[1]]) : [],
          asks: s.book ? s.book.levels('ask').map((l): [number, number] => [l[0], l[1]]) : [],
          bookTs: s.book?.ts() ?? 0,
        };
      }),
    };
  }

  restore(st: PaperBrokerState): void {
    this.symbols.clear();
    this.lastState = undefined;
    this.byId.clear();
    for (const x of st.symbols) {
      if (x.held !== undefined && x.slots.length < x.held) throw new ValidationError('PARTIAL_RING', `${x.symbol}: ${x.slots.length} of the ring's ${x.held} events (a state taken with ringSince)`, 'PaperBroker.restore');
      const s = this.sym(x.symbol);
      for (const e of x.slots.slice(-this.options.ringSize)) s.push(e.ts, e.open, e.high, e.low, e.close, e.volume, e.bid, e.ask);
      s.evictedTs = x.evictedTs;
      s.lastPrice = x.lastPrice;
      s.volVar = x.volVar;
      s.spreadBps = x.spreadBps;
      s.lastVolume = x.lastVolume;
      if (x.bookTs > 0) {
        s.book = new OrderBook(x.symbol);
        s.book.apply({ kind: 'depth', symbol: x.symbol, ts: x.bookTs, firstUpdateId: 0, lastUpdateId: 0, snapshot: true, bids: x.bids, asks: x.asks });
      }
    }
    for (const w of st.working) {
      const copy: Working = { ...w, done: false };
      this.byId.set(w.intent.clientOrderId, copy);
      const s = this.sym(w.intent.symbol);
      s.working.push(copy);
      s.addPending(w.intent.side, w.remaining, 1);
    }
  }

  private sym(symbol: string): SymbolState {
    // Most streams are one symbol: skip the map lookup when it repeats.
    if (symbol === this.lastSymbol && this.lastState) return this.lastState;
    let s = this.symbols.get(symbol);
    if (!s) {
      s = new SymbolState(this.options.ringSize);
      this.symbols.set(symbol, s);
    }
    this.lastSymbol = symbol;
    this.lastState = s;
    return s;
  }

  private applyDepth(s: SymbolState, e: DepthUpdate): void {
    s.book ??= new OrderBook(e.symbol);
    s.book.apply(e);
    const bid = s.book.bestBid()?.[0];
    const ask = s.book.bestAsk()?.[0];
    if (bid !== undefined && ask !== undefined && ask >= bid) {
      const mid = (bid + ask) / 2;
      s.observePrice(mid);
      s.spreadBps = ((ask - bid) / mid) * 1e4;
    }
  }

  private matchWorking(s: SymbolState, slot: Slot): void {
    s.activate(slot.ts);
    for (const w of s.working) if (!w.done && slot.ts > w.matchedThroughTs) this.matchSlot(s, w, slot);
    this.compact(s);
  }

  private matchSlot(s: SymbolState, w: Working, slot: Slot): void {
    if (this.expiredDay(w, slot.ts)) return;
    const m = this.options.fillModel === 'quote' ? this.quoteMatch(w, slot) : this.barMatch(w, slot);
    this.afterMatch(s, w, slot.ts, m);
  }

  private matchBook(s: SymbolState, w: Working, ts: number): void {
    if (this.expiredDay(w, ts) || !s.book) return;
    const buy = w.intent.side === 'buy';
    const limit = w.intent.type === 'limit' ? w.intent.limitPrice : undefined;
    const lot = this.instrument(w.intent.symbol).lotSize;
    let taken = 0;
    let notional = 0;
    let volume = 0;
    for (const [price, size] of s.book.levels(buy ? 'ask' : 'bid')) {
      if (limit !== undefined && (buy ? price > limit : price < limit)) break;
      volume += size;
      const take = roundDownToStep(Math.min(w.remaining - taken, size), lot);
      if (take <= 0) continue;
      taken += take;
      notional += take * price;
      if (w.remaining - taken <= w.intent.qty * 1e-12) break;
    }
    // Walking the book already is the market impact: no extra slippage on top of it.
    const m = taken > 0 ? { qty: taken, price: notional / taken, taker: !(w.rested && limit !== undefined), volume } : undefined;
    this.afterMatch(s, w, ts, m, true);
  }

  private barMatch(w: Working, b: Slot): Match | undefined {
    const i = w.intent;
    let price: number | undefined;
    let taker = true;
    if (i.type === 'market') price = b.open;
    else if (i.limitPrice !== undefined) {
      const L = i.limitPrice;
      if (i.side === 'buy' ? b.open <= L : b.open >= L) {
        price = b.open;
        taker = !w.rested;
      } else if (i.side === 'buy' ? b.low < L : b.high > L) {
        price = L;
        taker = false;
      }
    }
    if (price === undefined) return undefined;
    let qty = w.remaining;
    const cap = this.options.maxParticipation;
    if (cap !== undefined) qty = Math.min(qty, roundDownToStep(cap * b.volume, this.instrument(i.symbol).lotSize));
    return qty > 0 ? { qty, price, taker, volume: b.volume } : undefined;
  }

  private quoteMatch(w: Working, q: Slot): Match | undefined {
    const i = w.intent;
    const touch = i.side === 'buy' ? q.ask : q.bid;
    if (i.type === 'market') return { qty: w.remaining, price: touch, taker: true, volume: 0 };
    const L = i.limitPrice;
    if (L === undefined || (i.side === 'buy' ? touch > L : touch < L)) return undefined;
    // Marketable on arrival takes the quote; a resting limit the market came to fills at its limit.
    return w.rested ? { qty: w.remaining, price: L, taker: false, volume: 0 } : { qty: w.remaining, price: touch, taker: true, volume: 0 };
  }

  private afterMatch(s: SymbolState, w: Working, ts: number, m: Match | undefined, priceIsFinal = false): void {
    w.matchedThroughTs = ts;
    const tif = w.intent.timeInForce;
    if (tif === 'FOK' && (!m || m.qty < w.remaining * (1 - 1e-12))) {
      this.finish(w, ts, 'FOK: not fillable in full on arrival');
      return;
    }
    if (m) this.emitFill(s, w, ts, m, priceIsFinal);
    if (w.done) return;
    if (tif === 'IOC' || tif === 'FOK') this.finish(w, ts, `${tif}: remainder ${w.remaining} cancelled`);
    w.rested = true;
  }

  private emitFill(s: SymbolState, w: Working, ts: number, m: Match, priceIsFinal: boolean): void {
    const i = w.intent;
    const inst = this.instrument(i.symbol);
    let price = m.price;
    const features: CostFeatures = { spreadBps: s.spreadBps, volBps: Math.sqrt(s.volVar) * 1e4, participation: m.volume > 0 ? m.qty / m.volume : 0 };
    if (m.taker && !priceIsFinal) {
      const bps = this.slippageModel ? Math.max(0, this.slippageModel.estimateBps(i.symbol, features)) : this.options.slippageBps;
      if (bps > 0) {
        const slipped = roundToStep(price * (i.side === 'buy' ? 1 + bps / 1e4 : 1 - bps / 1e4), inst.tickSize);
        price = i.limitPrice === undefined ? slipped : i.side === 'buy' ? Math.min(slipped, i.limitPrice) : Math.max(slipped, i.limitPrice);
        if (!(price > 0)) price = inst.tickSize;
      }
    }
    const complete = m.qty >= w.remaining * (1 - 1e-12);
    const qty = complete ? w.remaining : m.qty;
    w.remaining = complete ? 0 : w.remaining - m.qty;
    s.addPending(i.side, -qty, complete ? -1 : 0);
    w.fillSeq++;
    const feeBps = m.taker ? this.options.takerFeeBps : this.options.makerFeeBps;
    const fill: Fill = {
      execId: execId(i.clientOrderId, w.fillSeq),
      clientOrderId: i.clientOrderId,
      accountId: i.accountId,
      strategyId: i.strategyId,
      symbol: i.symbol,
      side: i.side,
      qty,
      price,
      fee: (qty * price * inst.multiplier * feeBps) / 1e4,
      liquidity: m.taker ? 'taker' : 'maker',
      ts,
      arrivalPrice: i.decisionPrice,
    };
    if (complete) {
      w.done = true;
      this.byId.delete(i.clientOrderId);
    }
    this.listener.fill(fill, features, m.price);
  }

  /** DAY orders lapse at the first event of a later UTC day than their decision. */
  private expiredDay(w: Working, ts: number): boolean {
    if (w.intent.timeInForce !== 'DAY' || utcDay(ts) <= utcDay(w.intent.ts)) return false;
    this.finish(w, ts, 'DAY order expired at the UTC day end');
    return true;
  }

  private finish(w: Working, ts: number, reason: string): void {
    w.done = true;
    this.sym(w.intent.symbol).addPending(w.intent.side, -w.remaining, -1);
    this.byId.delete(w.intent.clientOrderId);
    this.listener.cancelled(w.intent.clientOrderId, ts, reason);
  }

  private compact(s: SymbolState): void {
    let j = 0;
    for (let k = 0; k < s.working.length; k++) if (!s.working[k].done) s.working[j++] = s.working[k];
    s.working.length = j;
  }
}
