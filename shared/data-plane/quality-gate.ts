import { DEFAULTS } from '../config/defaults.ts';
import type { Bar, DepthUpdate, MarketEvent, Ofi, Quote, Trade } from '../domain/market.ts';
import { QualityReason } from '../domain/system.ts';
import type { QuarantineEntry } from '../domain/system.ts';
import { US_PER_DAY, usToIso } from '../domain/time.ts';

export interface QualityOptions {
  /** Robust z-score of a log return above which the price is an outlier. */
  outlierZ: number;
  /** Returns kept for the median/MAD estimate. */
  outlierWindow: number;
  /** Recompute median/MAD every this many accepted returns (default: once per window). */
  outlierRefreshEvery?: number;
  /** Returns needed before outliers are judged at all. */
  outlierMinSamples?: number;
  /**
   * Smallest absolute log return that can be an outlier. Tick series are mostly zero returns, so
   * their MAD is ~0 and any move has a huge z; real bad prints are large moves.
   */
  outlierMinReturn?: number;
  /** Consecutive outliers after which the new level is accepted as a regime change. */
  outlierRegimeAfter?: number;
  /** Event-time silence longer than this flags the feed stale. */
  staleAfterUs: number;
}

const MAD_TO_SIGMA = 1.4826;
/** Mean absolute deviation to sigma for normal data (sqrt(pi/2)); the fallback when MAD is 0. */
const MEAN_ABS_TO_SIGMA = 1.2533;
const RECENT_TRADE_IDS = 256;

/**
 * Rolling robust statistics of log returns. The median/MAD are refreshed every `refreshEvery`
 * returns rather than per event, so the sort cost is amortised to O(1) per event.
 */
class ReturnStats {
  private readonly window: Float64Array;
  private readonly scratch: Float64Array;
  private count = 0;
  private next = 0;
  private sinceRefresh = 0;
  private center = 0;
  private scale = 0;
  /** The log return to the price last judged, so accepting that price does not take the log twice. */
  private judgedPrice = NaN;
  private judgedReturn = 0;
  lastPrice = NaN;
  streak = 0;

  constructor(
    size: number,
    private readonly refreshEvery: number,
    private readonly minSamples: number,
  ) {
    this.window = new Float64Array(size);
    this.scratch = new Float64Array(size);
  }

  /** Robust z-score of moving to `price`; 0 for small moves and while there is too little history. */
  zScore(price: number, minReturn: number): number {
    if (this.count < this.minSamples || !(this.lastPrice > 0)) return 0;
    const r = this.logReturn(price);
    if (Math.abs(r) <= minReturn) return 0;
    if (this.sinceRefresh >= this.refreshEvery || this.scale === 0) this.refresh();
    if (this.scale === 0) return 0;
    return Math.abs(r - this.center) / this.scale;
  }

  accept(price: number): void {
    if (this.lastPrice > 0) {
      this.window[this.next] = this.logReturn(price);
      this.next = this.next + 1 === this.window.length ? 0 : this.next + 1;
      if (this.count < this.window.length) this.count++;
      this.sinceRefresh++;
    }
    this.lastPrice = price;
    this.judgedPrice = NaN;
    this.streak = 0;
  }

  private logReturn(price: number): number {
    if (price !== this.judgedPrice) {
      this.judgedPrice = price;
      this.judgedReturn = Math.log(price / this.lastPrice);
    }
    return this.judgedReturn;
  }

  private refresh(): void {
    this.sinceRefresh = 0;
    const n = this.count;
    const s = this.scratch.subarray(0, n);
    s.set(this.window.subarray(0, n));
    s.sort();
    const median = n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
    let meanAbs = 0;
    for (let i = 0; i < n; i++) {
      s[i] = Math.abs(s[i] - median);
      meanAbs += s[i];
    }
    s.sort();
    const mad = n % 2 === 1 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
    this.center = median;
    this.scale = mad > 0 ? MAD_TO_SIGMA * mad : (MEAN_ABS_TO_SIGMA * meanAbs) / n;
  }
}

class SymbolState {
  lastBarTs = -1;
  /** Whether weekend bars occur, so daily gaps over weekends are not missing bars. */
  weekendBars = false;
  lastQuote: Quote | undefined;
  lastTradeTs = -1;
  readonly tradeIds = new Set<string>();
  readonly tradeIdOrder: string[] = [];
  lastDepthTs = -1;
  /** -1 until a snapshot or first diff gives the sequence a reference. */
  lastUpdateId = -1;
  afterSnapshot = false;
  lastOfiTs = -1;
  /** Latest tick (quote/trade/depth) time, for event-time staleness. */
  lastTickTs = -1;
  /** Latest time the feed is known to cover (ticks, or a bar's end), for wall-clock staleness. */
  coveredUntil = -1;
  staleFlagged = false;
  readonly barReturns: ReturnStats;
  readonly tradeReturns: ReturnStats;
  readonly quoteReturns: ReturnStats;

  constructor(readonly symbol: string, opts: Required<QualityOptions>) {
    const make = () => new ReturnStats(opts.outlierWindow, opts.outlierRefreshEvery, opts.outlierMinSamples);
    this.barReturns = make();
    this.tradeReturns = make();
    this.quoteReturns = make();
  }
}

function isTimestamp(ts: number): boolean {
  return ts > 0 && Number.isSafeInteger(ts);
}

function isPrice(v: number): boolean {
  return v > 0 && v < Infinity;
}

function isSize(v: number | undefined): boolean {
  return v === undefined || (v >= 0 && v < Infinity);
}

/** Weekdays among UTC day indices [0, day). Day 0 (1970-01-01) was a Thursday. */
function weekdaysBefore(day: number): number {
  let count = Math.floor(day / 7) * 5;
  for (let d = day - (day % 7); d < day; d++) {
    const weekday = (d + 4) % 7; // 0 = Sunday
    if (weekday !== 0 && weekday !== 6) count++;
  }
  return count;
}

function isWeekend(ts: number): boolean {
  const weekday = (Math.floor(ts / US_PER_DAY) + 4) % 7;
  return weekday === 0 || weekday === 6;
}

/**
 * Per-symbol data-quality checks on every market event. Rejections (invalid values, crossed books,
 * out-of-order, duplicates, outliers) drop the event; flags (missing bars, sequence gaps, stale
 * feed) let it pass. Either way a QuarantineEntry goes to `onQuarantine` and a counter moves.
 */
export class QualityGate {
  private readonly opts: Required<QualityOptions>;
  private readonly states = new Map<string, SymbolState>();
  private readonly counters: Record<QualityReason, number>;
  private cachedSymbol = '';
  private cachedState: SymbolState | undefined;

  constructor(
    opts: Partial<QualityOptions> = {},
    private readonly onQuarantine: (e: QuarantineEntry) => void,
  ) {
    const base = { ...DEFAULTS.quality, ...opts };
    const positive = (v: Record<string, unknown>) => {
      for (const [name, value] of Object.entries(v)) {
        if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new RangeError(`quality option ${name} must be a positive number, got ${value}`);
      }
    };
    positive(base);
    this.opts = {
      outlierRefreshEvery: base.outlierWindow,
      outlierMinSamples: Math.min(20, base.outlierWindow),
      ...base,
    };
    positive(this.opts);
    this.counters = Object.fromEntries(QualityReason.options.map((r) => [r, 0])) as Record<QualityReason, number>;
  }

  private line: number | undefined;

  counts(): Record<QualityReason, number> {
    return { ...this.counters };
  }

  /** Counts and forwards an entry found elsewhere (reader parse errors), so counts() covers the whole pipeline. */
  record(entry: QuarantineEntry): void {
    this.counters[entry.reason]++;
    this.onQuarantine(entry);
  }

  /** True when the event may pass downstream. */
  check(e: MarketEvent, where?: string, line?: number): boolean {
    // Kept as a number and joined to `where` only when an entry is written: no string per event.
    this.line = line;
    const state = this.state(e.symbol);
    switch (e.kind) {
      case 'bar':
        return this.checkBar(e, state, where);
      case 'quote':
        return this.checkQuote(e, state, where);
      case 'trade':
        return this.checkTrade(e, state, where);
      case 'depth':
        return this.checkDepth(e, state, where);
      case 'ofi':
        return this.checkOfi(e, state, where);
    }
  }

  /** Flags every symbol whose feed has been silent for longer than staleAfterUs at wall-clock `nowUs`. */
  checkStale(nowUs: number): void {
    for (const state of this.states.values()) {
      if (state.coveredUntil < 0 || state.staleFlagged) continue;
      const silent = nowUs - state.coveredUntil;
      if (silent > this.opts.staleAfterUs) {
        state.staleFlagged = true;
        this.emit('STALE_FEED', state.symbol, `${state.symbol}: no data for ${silent / 1e6}s (last covers ${usToIso(state.coveredUntil)})`, undefined, nowUs, undefined, false);
      }
    }
  }

  private state(symbol: string): SymbolState {
    if (symbol === this.cachedSymbol && this.cachedState) return this.cachedState;
    let state = this.states.get(symbol);
    if (!state) {
      state = new SymbolState(symbol, this.opts);
      this.states.set(symbol, state);
    }
    this.cachedSymbol = symbol;
    this.cachedState = state;
    return state;
  }

  private emit(reason: QualityReason, symbol: string, message: string, where: string | undefined, ts: number | undefined, raw: unknown, rejected: boolean): void {
    this.counters[reason]++;
    const location = where === undefined ? symbol : this.line === undefined ? where : `${where}:${this.line}`;
    this.onQuarantine({ reason, where: location, message, ts: ts !== undefined && isTimestamp(ts) ? ts : undefined, symbol, raw, rejected });
  }

  private reject(reason: QualityReason, e: MarketEvent, message: string, where: string | undefined): false {
    this.emit(reason, e.symbol, message, where, e.ts, e, true);
    return false;
  }

  private flag(reason: QualityReason, e: MarketEvent, message: string, where: string | undefined): void {
    this.emit(reason, e.symbol, message, where, e.ts, e, false);
  }

  /** Outlier test on a price series; true when the price is rejected. */
  private outlier(stats: ReturnStats, price: number, e: MarketEvent, field: string, where: string | undefined): boolean {
    const z = stats.zScore(price, this.opts.outlierMinReturn);
    if (z <= this.opts.outlierZ) return false;
    stats.streak++;
    // A bad print reverts at once; a level that persists is a regime change.
    if (stats.streak >= this.opts.outlierRegimeAfter) return false;
    this.reject('OUTLIER', e, `${field} ${price} after ${stats.lastPrice} is ${z.toFixed(1)} robust sigmas from recent returns (limit ${this.opts.outlierZ})`, where);
    return true;
  }

  private noteTick(state: SymbolState, e: MarketEvent, where: string | undefined): void {
    if (state.lastTickTs >= 0 && e.ts - state.lastTickTs > this.opts.staleAfterUs) {
      this.flag('STALE_FEED', e, `no ticks for ${(e.ts - state.lastTickTs) / 1e6}s before ${usToIso(e.ts)}`, where);
    }
    if (e.ts > state.lastTickTs) state.lastTickTs = e.ts;
    if (e.ts > state.coveredUntil) state.coveredUntil = e.ts;
    state.staleFlagged = false;
  }

  private checkBar(b: Bar, state: SymbolState, where: string | undefined): boolean {
    if (!isTimestamp(b.ts)) return this.reject('INVALID_VALUE', b, `ts ${b.ts} is not a positive integer of epoch µs`, where);
    if (!(isPrice(b.open) && isPrice(b.high) && isPrice(b.low) && isPrice(b.close))) {
      return this.reject('INVALID_VALUE', b, `prices must be finite and > 0 (open ${b.open}, high ${b.high}, low ${b.low}, close ${b.close})`, where);
    }
    if (!(b.volume >= 0 && b.volume < Infinity)) return this.reject('INVALID_VALUE', b, `volume ${b.volume} must be finite and >= 0`, where);
    if (b.high < b.low || b.high < b.open || b.high < b.close || b.low > b.open || b.low > b.close) {
      return this.reject('INVALID_VALUE', b, `high ${b.high} / low ${b.low} do not bound open ${b.open} / close ${b.close}`, where);
    }
    const last = state.lastBarTs;
    if (b.ts < last) return this.reject('OUT_OF_ORDER', b, `bar at ${usToIso(b.ts)} after bar at ${usToIso(last)}`, where);
    if (b.ts === last) return this.reject('DUPLICATE', b, `second bar at ${usToIso(b.ts)}`, where);
    if (this.outlier(state.barReturns, b.close, b, 'close', where)) return false;
    state.barReturns.accept(b.close);
    if (!state.weekendBars && isWeekend(b.ts)) state.weekendBars = true;
    if (last >= 0 && b.intervalUs > 0 && b.ts - last > b.intervalUs) {
      const missing = this.missingBars(last, b.ts, b.intervalUs, state.weekendBars);
      if (missing > 0) this.flag('MISSING_BARS', b, `${missing} bar(s) missing between ${usToIso(last)} and ${usToIso(b.ts)}`, where);
    }
    state.lastBarTs = b.ts;
    const end = b.ts + b.intervalUs;
    if (end > state.coveredUntil) state.coveredUntil = end;
    state.staleFlagged = false;
    return true;
  }

  /** Bars missing strictly between two bar times; daily series without weekend bars skip weekends. */
  private missingBars(last: number, ts: number, intervalUs: number, weekendBars: boolean): number {
    if (intervalUs === US_PER_DAY && !weekendBars) {
      return Math.max(0, weekdaysBefore(Math.floor(ts / US_PER_DAY)) - weekdaysBefore(Math.floor(last / US_PER_DAY) + 1));
    }
    return Math.round((ts - last) / intervalUs) - 1;
  }

  private checkQuote(q: Quote, state: SymbolState, where: string | undefined): boolean {
    if (!isTimestamp(q.ts)) return this.reject('INVALID_VALUE', q, `ts ${q.ts} is not a positive integer of epoch µs`, where);
    if (!isPrice(q.bid) || !isPrice(q.ask)) return this.reject('INVALID_VALUE', q, `bid ${q.bid} / ask ${q.ask} must be finite and > 0`, where);
    if (!isSize(q.bidSize) || !isSize(q.askSize)) return this.reject('INVALID_VALUE', q, `bid size ${q.bidSize} / ask size ${q.askSize} must be finite and >= 0`, where);
    if (q.bid > q.ask) return this.reject('CROSSED_BOOK', q, `bid ${q.bid} above ask ${q.ask}`, where);
    const last = state.lastQuote;
    if (last) {
      if (q.ts < last.ts) return this.reject('OUT_OF_ORDER', q, `quote at ${usToIso(q.ts)} after quote at ${usToIso(last.ts)}`, where);
      if (q.ts === last.ts && q.bid === last.bid && q.ask === last.ask && q.bidSize === last.bidSize && q.askSize === last.askSize) {
        return this.reject('DUPLICATE', q, `repeated quote at ${usToIso(q.ts)}`, where);
      }
    }
    const mid = (q.bid + q.ask) / 2;
    if (this.outlier(state.quoteReturns, mid, q, 'mid', where)) return false;
    state.quoteReturns.accept(mid);
    state.lastQuote = q;
    this.noteTick(state, q, where);
    return true;
  }

  private checkTrade(t: Trade, state: SymbolState, where: string | undefined): boolean {
    if (!isTimestamp(t.ts)) return this.reject('INVALID_VALUE', t, `ts ${t.ts} is not a positive integer of epoch µs`, where);
    if (!isPrice(t.price)) return this.reject('INVALID_VALUE', t, `price ${t.price} must be finite and > 0`, where);
    if (!(t.size > 0 && t.size < Infinity)) return this.reject('INVALID_VALUE', t, `size ${t.size} must be finite and > 0`, where);
    if (t.ts < state.lastTradeTs) return this.reject('OUT_OF_ORDER', t, `trade at ${usToIso(t.ts)} after trade at ${usToIso(state.lastTradeTs)}`, where);
    if (t.tradeId !== undefined && state.tradeIds.has(t.tradeId)) return this.reject('DUPLICATE', t, `trade id ${t.tradeId} seen before`, where);
    if (this.outlier(state.tradeReturns, t.price, t, 'price', where)) return false;
    state.tradeReturns.accept(t.price);
    if (t.tradeId !== undefined) {
      state.tradeIds.add(t.tradeId);
      state.tradeIdOrder.push(t.tradeId);
      if (state.tradeIdOrder.length > RECENT_TRADE_IDS) state.tradeIds.delete(state.tradeIdOrder.shift()!);
    }
    state.lastTradeTs = t.ts;
    this.noteTick(state, t, where);
    return true;
  }

  private checkDepth(d: DepthUpdate, state: SymbolState, where: string | undefined): boolean {
    if (!isTimestamp(d.ts)) return this.reject('INVALID_VALUE', d, `ts ${d.ts} is not a positive integer of epoch µs`, where);
    for (const [side, levels] of [['bid', d.bids], ['ask', d.asks]] as const) {
      for (const [price, size] of levels) {
        if (!isPrice(price) || !(size >= 0 && size < Infinity)) return this.reject('INVALID_VALUE', d, `${side} level ${price} x ${size}: price must be > 0, size >= 0, both finite`, where);
      }
    }
    if (d.ts < state.lastDepthTs) return this.reject('OUT_OF_ORDER', d, `depth at ${usToIso(d.ts)} after depth at ${usToIso(state.lastDepthTs)}`, where);
    if (d.snapshot) {
      let bestBid = 0;
      let bestAsk = Infinity;
      for (const [price, size] of d.bids) if (size > 0 && price > bestBid) bestBid = price;
      for (const [price, size] of d.asks) if (size > 0 && price < bestAsk) bestAsk = price;
      if (bestBid > bestAsk) return this.reject('CROSSED_BOOK', d, `snapshot best bid ${bestBid} above best ask ${bestAsk}`, where);
      // Snapshots without ids (Tardis) give the diff sequence no reference.
      state.lastUpdateId = d.lastUpdateId > 0 ? d.lastUpdateId : -1;
      state.afterSnapshot = true;
    } else if (!this.checkSequence(d, state, where)) return false;
    state.lastDepthTs = d.ts;
    this.noteTick(state, d, where);
    return true;
  }

  /**
   * Binance diff rules: spot diffs chain by U = previous u + 1, futures diffs by pu = previous u;
   * the first diff after a snapshot must straddle the snapshot's id. Diffs already covered are
   * duplicates; a break is flagged (the book is unreliable until the next snapshot) but passes.
   */
  private checkSequence(d: DepthUpdate, state: SymbolState, where: string | undefined): boolean {
    const last = state.lastUpdateId;
    if (last >= 0) {
      const covered = state.afterSnapshot && d.prevUpdateId !== undefined ? d.lastUpdateId < last : d.lastUpdateId <= last;
      if (covered) return this.reject('DUPLICATE', d, `update ${d.firstUpdateId}..${d.lastUpdateId} already covered (last applied ${last})`, where);
      let gap: string | undefined;
      if (state.afterSnapshot) {
        if (d.firstUpdateId > last + 1) gap = `first diff after snapshot ${last} starts at ${d.firstUpdateId}`;
      } else if (d.prevUpdateId !== undefined) {
        if (d.prevUpdateId !== last) gap = `pu ${d.prevUpdateId} != previous last_update_id ${last}`;
      } else if (d.firstUpdateId !== last + 1) gap = `first_update_id ${d.firstUpdateId} != previous last_update_id ${last} + 1`;
      if (gap) this.flag('SEQUENCE_GAP', d, gap, where);
    }
    state.lastUpdateId = d.lastUpdateId;
    state.afterSnapshot = false;
    return true;
  }

  private checkOfi(o: Ofi, state: SymbolState, where: string | undefined): boolean {
    if (!isTimestamp(o.ts)) return this.reject('INVALID_VALUE', o, `ts ${o.ts} is not a positive integer of epoch µs`, where);
    if (!Number.isFinite(o.ofi) || !Number.isFinite(o.normalizedOfi) || !isPrice(o.mid)) return this.reject('INVALID_VALUE', o, `ofi ${o.ofi}, normalized ${o.normalizedOfi}, mid ${o.mid} must be finite (mid > 0)`, where);
    if (o.ts < state.lastOfiTs) return this.reject('OUT_OF_ORDER', o, `ofi at ${usToIso(o.ts)} after ofi at ${usToIso(state.lastOfiTs)}`, where);
    state.lastOfiTs = o.ts;
    return true;
  }
}
