import type { Bar, Trade } from '../domain/market.ts';

/**
 * Time bars from trades (or quote mids): a bar covers [ts, ts + intervalUs) aligned to the epoch,
 * and is emitted once an input falls in a later interval. Intervals without input produce no bar.
 * Inputs must arrive in time order (the QualityGate upstream rejects out-of-order events); a late
 * input is folded into the open bar because an emitted bar cannot be reopened.
 */
export class BarAggregator {
  private start = -1;
  private open = 0;
  private high = 0;
  private low = 0;
  private close = 0;
  private volume = 0;

  constructor(
    readonly symbol: string,
    readonly intervalUs: number,
    private readonly emit: (bar: Bar) => void,
  ) {
    if (!(Number.isSafeInteger(intervalUs) && intervalUs > 0)) throw new RangeError(`bar interval must be a positive integer of µs, got ${intervalUs}`);
  }

  addTrade(t: Trade): void {
    this.add(t.ts, t.price, t.size);
  }

  /** Quote mids build bars without volume. */
  addMid(ts: number, mid: number): void {
    this.add(ts, mid, 0);
  }

  /** Emits the open (partial) bar, if any. */
  flush(): void {
    if (this.start < 0) return;
    this.emit({
      kind: 'bar',
      symbol: this.symbol,
      ts: this.start,
      intervalUs: this.intervalUs,
      open: this.open,
      high: this.high,
      low: this.low,
      close: this.close,
      volume: this.volume,
    });
    this.start = -1;
  }

  private add(ts: number, price: number, size: number): void {
    const start = ts - (ts % this.intervalUs);
    if (start > this.start) {
      this.flush();
      this.start = start;
      this.open = this.high = this.low = price;
      this.volume = 0;
    }
    if (price > this.high) this.high = price;
    if (price < this.low) this.low = price;
    this.close = price;
    this.volume += size;
  }
}
