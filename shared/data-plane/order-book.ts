import type { DepthUpdate, Level } from '../domain/market.ts';
import type { BookView } from '../ports/planes.ts';

/**
 * One side of an L2 book as parallel arrays kept sorted best-first: binary search finds a level,
 * and reading the top or walking the levels needs no sorting.
 */
class BookSide {
  readonly prices: number[] = [];
  readonly sizes: number[] = [];
  private cached: readonly Level[] | undefined;

  constructor(private readonly descending: boolean) {}

  clear(): void {
    this.prices.length = 0;
    this.sizes.length = 0;
    this.cached = undefined;
  }

  /** Index of `price`, or -(insertion point) - 1. */
  private find(price: number): number {
    let lo = 0;
    let hi = this.prices.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = this.prices[mid];
      if (p === price) return mid;
      if (this.descending ? p > price : p < price) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  set(price: number, size: number): void {
    this.cached = undefined;
    const i = this.find(price);
    if (i >= 0) {
      if (size > 0) this.sizes[i] = size;
      else {
        this.prices.splice(i, 1);
        this.sizes.splice(i, 1);
      }
    } else if (size > 0) {
      const at = -i - 1;
      this.prices.splice(at, 0, price);
      this.sizes.splice(at, 0, size);
    }
  }

  levels(): readonly Level[] {
    this.cached ??= this.prices.map((p, i) => [p, this.sizes[i]] as const);
    return this.cached;
  }
}

export class OrderBook implements BookView {
  private readonly bids = new BookSide(true);
  private readonly asks = new BookSide(false);
  private lastTs = 0;
  private lastId = -1;

  constructor(readonly symbol: string) {}

  /** A snapshot replaces the book; a diff sets each level's size (0 deletes the level). */
  apply(d: DepthUpdate): void {
    if (d.symbol !== this.symbol) throw new RangeError(`book for ${this.symbol} got an update for ${d.symbol}`);
    if (d.snapshot) {
      this.bids.clear();
      this.asks.clear();
    }
    for (const [price, size] of d.bids) this.bids.set(price, size);
    for (const [price, size] of d.asks) this.asks.set(price, size);
    this.lastTs = d.ts;
    this.lastId = d.lastUpdateId;
  }

  bestBid(): Level | undefined {
    return this.bids.prices.length > 0 ? [this.bids.prices[0], this.bids.sizes[0]] : undefined;
  }

  bestAsk(): Level | undefined {
    return this.asks.prices.length > 0 ? [this.asks.prices[0], this.asks.sizes[0]] : undefined;
  }

  /** Mid price, or undefined while either side is empty. */
  mid(): number | undefined {
    if (this.bids.prices.length === 0 || this.asks.prices.length === 0) return undefined;
    return (this.bids.prices[0] + this.asks.prices[0]) / 2;
  }

  levels(side: 'bid' | 'ask'): readonly Level[] {
    return side === 'bid' ? this.bids.levels() : this.asks.levels();
  }

  depth(side: 'bid' | 'ask'): number {
    return side === 'bid' ? this.bids.prices.length : this.asks.prices.length;
  }

  /** Time of the last applied update (0 before any). */
  ts(): number {
    return this.lastTs;
  }

  /** lastUpdateId of the last applied update (-1 before any). */
  lastUpdateId(): number {
    return this.lastId;
  }
}
