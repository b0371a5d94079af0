import type { Ofi } from '../domain/market.ts';

/**
 * Order-flow imbalance of Cont, Kukanov & Stoikov (2014). Between consecutive top-of-book states
 *   e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1 - 1{Pa_n <= Pa_n-1} qa_n + 1{Pa_n >= Pa_n-1} qa_n-1
 * summed over epoch-aligned intervals. normalizedOfi divides by the interval's mean touch depth
 * (qb + qa) / 2, as the paper normalises by average depth. An interval is emitted, stamped with its
 * end, once an update falls in a later interval; intervals without any e_n emit nothing.
 */
export class OfiCalculator {
  private bucket = -1;
  private ofi = 0;
  private events = 0;
  private depthSum = 0;
  private depthCount = 0;
  private mid = 0;
  private hasPrevious = false;
  private bid = 0;
  private bidSize = 0;
  private ask = 0;
  private askSize = 0;

  constructor(
    readonly symbol: string,
    readonly intervalUs: number,
    private readonly emit: (ofi: Ofi) => void,
  ) {
    if (!(Number.isSafeInteger(intervalUs) && intervalUs > 0)) throw new RangeError(`OFI interval must be a positive integer of µs, got ${intervalUs}`);
  }

  /** A new top of book. */
  update(ts: number, bid: number, bidSize: number, ask: number, askSize: number): void {
    const bucket = ts - (ts % this.intervalUs);
    if (bucket > this.bucket) {
      this.flush();
      this.bucket = bucket;
    }
    if (this.hasPrevious) {
      let e = 0;
      if (bid >= this.bid) e += bidSize;
      if (bid <= this.bid) e -= this.bidSize;
      if (ask <= this.ask) e -= askSize;
      if (ask >= this.ask) e += this.askSize;
      this.ofi += e;
      this.events++;
    }
    this.depthSum += (bidSize + askSize) / 2;
    this.depthCount++;
    this.mid = (bid + ask) / 2;
    this.hasPrevious = true;
    this.bid = bid;
    this.bidSize = bidSize;
    this.ask = ask;
    this.askSize = askSize;
  }

  /** Emits the open interval if it holds any e_n. */
  flush(): void {
    if (this.bucket >= 0 && this.events > 0) {
      const meanDepth = this.depthSum / this.depthCount;
      this.emit({
        kind: 'ofi',
        symbol: this.symbol,
        ts: this.bucket + this.intervalUs,
        intervalUs: this.intervalUs,
        ofi: this.ofi,
        normalizedOfi: meanDepth > 0 ? this.ofi / meanDepth : 0,
        events: this.events,
        mid: this.mid,
      });
    }
    this.ofi = 0;
    this.events = 0;
    this.depthSum = 0;
    this.depthCount = 0;
  }
}
