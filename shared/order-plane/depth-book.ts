import type { DepthUpdate, Level } from '../domain/market.ts';
import type { BookView } from '../ports/planes.ts';

/**
 * The minimal L2 book the paper broker walks: levels kept in maps, sorted lazily when read. The data
 * plane's OrderBook does sequence checking; this one trusts that quality was checked upstream.
 */
export class DepthBook implements BookView {
  private readonly bids = new Map<number, number>();
  private readonly asks = new Map<number, number>();
  private sortedBids: Level[] | undefined = [];
  private sortedAsks: Level[] | undefined = [];
  /** Event time of the last update applied (0 before any). */
  ts = 0;

  apply(d: DepthUpdate): void {
    if (d.snapshot) {
      this.bids.clear();
      this.asks.clear();
    }
    for (const [p, s] of d.bids) setLevel(this.bids, p, s);
    for (const [p, s] of d.asks) setLevel(this.asks, p, s);
    this.sortedBids = undefined;
    this.sortedAsks = undefined;
    this.ts = d.ts;
  }

  levels(side: 'bid' | 'ask'): readonly Level[] {
    if (side === 'bid') return (this.sortedBids ??= sortLevels(this.bids, -1));
    return (this.sortedAsks ??= sortLevels(this.asks, 1));
  }

  bestBid(): number | undefined {
    return this.levels('bid')[0]?.[0];
  }

  bestAsk(): number | undefined {
    return this.levels('ask')[0]?.[0];
  }

  mid(): number | undefined {
    const bid = this.bestBid();
    const ask = this.bestAsk();
    return bid !== undefined && ask !== undefined ? (bid + ask) / 2 : undefined;
  }
}

function setLevel(side: Map<number, number>, price: number, size: number): void {
  if (size > 0) side.set(price, size);
  else side.delete(price);
}

function sortLevels(side: Map<number, number>, direction: 1 | -1): Level[] {
  return [...side.entries()].sort((a, b) => direction * (a[0] - b[0]));
}
