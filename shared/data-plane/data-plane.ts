import { DEFAULTS } from '../config/defaults.ts';
import type { DepthUpdate, MarketEvent, Quote, Trade } from '../domain/market.ts';
import type { QualityReason, QuarantineEntry } from '../domain/system.ts';
import type { DataPlaneSink } from '../ports/planes.ts';
import { BarAggregator } from './bar-aggregator.ts';
import { OfiCalculator } from './ofi.ts';
import { OrderBook } from './order-book.ts';
import { QualityGate } from './quality-gate.ts';
import type { QualityOptions } from './quality-gate.ts';

export interface DataPlaneOptions {
  quality?: Partial<QualityOptions>;
  /** OFI interval in µs; 0 turns OFI off. Default DEFAULTS.ofi.intervalUs. */
  ofiIntervalUs?: number;
  /** When set, trades are aggregated into bars of this length (µs). */
  barIntervalUs?: number;
}

/**
 * The data plane's synchronous core: quality-gate every event, pass the good ones on, and derive
 * OFI (from quotes with sizes, and from the top of books built from depth updates) and time bars
 * (from trades). Derived events go straight to the sink: their inputs already passed the gate.
 */
export class DataPlane {
  private readonly gate: QualityGate;
  private readonly ofiIntervalUs: number;
  private readonly barIntervalUs: number;
  private readonly books = new Map<string, OrderBook>();
  private readonly ofis = new Map<string, OfiCalculator>();
  private readonly bars = new Map<string, BarAggregator>();
  private passed = 0;

  constructor(
    opts: DataPlaneOptions,
    private readonly sink: DataPlaneSink,
  ) {
    this.gate = new QualityGate(opts.quality ?? {}, (entry) => sink.quarantine(entry));
    this.ofiIntervalUs = opts.ofiIntervalUs ?? DEFAULTS.ofi.intervalUs;
    this.barIntervalUs = opts.barIntervalUs ?? 0;
    for (const [name, v] of [['ofiIntervalUs', this.ofiIntervalUs], ['barIntervalUs', this.barIntervalUs]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`${name} must be a non-negative integer of µs, got ${v}`);
    }
  }

  /** `where` names the source (file, subject) and `line` the position in it, for quarantine entries. */
  process(e: MarketEvent, where?: string, line?: number): void {
    if (!this.gate.check(e, where, line)) return;
    this.passed++;
    // Derive first: an event that closes an interval goes out after that interval's OFI/bar, keeping time order.
    switch (e.kind) {
      case 'quote':
        this.onQuote(e);
        break;
      case 'depth':
        this.onDepth(e);
        break;
      case 'trade':
        this.onTrade(e);
        break;
    }
    this.sink.market(e);
  }

  /** Counts and forwards an entry rejected before the gate (a reader's parse errors). */
  quarantine(entry: QuarantineEntry): void {
    this.gate.record(entry);
  }

  /** Wall-clock staleness check (live feeds). */
  checkStale(nowUs: number): void {
    this.gate.checkStale(nowUs);
  }

  /** Emits partial OFI intervals and bars; call at the end of a stream. */
  flush(): void {
    for (const ofi of this.ofis.values()) ofi.flush();
    for (const bars of this.bars.values()) bars.flush();
  }

  counts(): Record<QualityReason, number> & { passed: number } {
    return { ...this.gate.counts(), passed: this.passed };
  }

  /** The book built from depth updates for `symbol`, if any arrived. */
  book(symbol: string): OrderBook | undefined {
    return this.books.get(symbol);
  }

  private onQuote(q: Quote): void {
    // Without sizes every e_n is 0: OFI would say nothing, so none is derived.
    if (this.ofiIntervalUs > 0 && q.bidSize !== undefined && q.askSize !== undefined) {
      this.ofi(q.symbol).update(q.ts, q.bid, q.bidSize, q.ask, q.askSize);
    }
  }

  private onDepth(d: DepthUpdate): void {
    let book = this.books.get(d.symbol);
    if (!book) {
      book = new OrderBook(d.symbol);
      this.books.set(d.symbol, book);
    }
    book.apply(d);
    const bid = book.bestBid();
    const ask = book.bestAsk();
    if (this.ofiIntervalUs > 0 && bid && ask) this.ofi(d.symbol).update(d.ts, bid[0], bid[1], ask[0], ask[1]);
  }

  private onTrade(t: Trade): void {
    if (this.barIntervalUs === 0) return;
    let bars = this.bars.get(t.symbol);
    if (!bars) {
      bars = new BarAggregator(t.symbol, this.barIntervalUs, (bar) => this.sink.market(bar));
      this.bars.set(t.symbol, bars);
    }
    bars.addTrade(t);
  }

  private ofi(symbol: string): OfiCalculator {
    let ofi = this.ofis.get(symbol);
    if (!ofi) {
      ofi = new OfiCalculator(symbol, this.ofiIntervalUs, (o) => this.sink.market(o));
      this.ofis.set(symbol, ofi);
    }
    return ofi;
  }
}
