import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BarAggregator, OfiCalculator, OrderBook, QualityGate, openMarketSources } from '../../../shared/data-plane/index.ts';
import type { Bar, DepthUpdate, Ofi } from '../../../shared/domain/market.ts';
import type { QuarantineEntry } from '../../../shared/domain/system.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SNAP = `${root}data/ticks/binance-btcusdt-depth-snap.csv`;
const UPDATE = `${root}data/ticks/binance-btcusdt-depth-update.csv`;
const S = 1_000_000;
const T0 = Date.UTC(2022, 0, 3) * 1000;

async function binanceUpdates(): Promise<DepthUpdate[]> {
  const events: DepthUpdate[] = [];
  for await (const b of (await openMarketSources([SNAP, UPDATE])).batches()) events.push(...(b.events as DepthUpdate[]));
  return events;
}

/** Naive oracle: replay the CSV rows into price->size maps (snapshot clears, size 0 deletes). */
function oracleBook() {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (const path of [SNAP, UPDATE]) {
    for (const line of readFileSync(path, 'utf8').trim().split('\n').slice(1)) {
      const [, , , , side, , price, qty] = line.split(',');
      const book = side === 'b' ? bids : asks;
      if (Number(qty) === 0) book.delete(Number(price));
      else book.set(Number(price), Number(qty));
    }
  }
  return {
    bids: [...bids].sort((a, b) => b[0] - a[0]),
    asks: [...asks].sort((a, b) => a[0] - b[0]),
  };
}

describe('OrderBook', () => {
  it('builds the Binance BTCUSDT book from the snapshot and diff files', async () => {
    const book = new OrderBook('BTCUSDT');
    for (const u of await binanceUpdates()) book.apply(u);
    const oracle = oracleBook();
    expect(book.levels('bid')).toEqual(oracle.bids);
    expect(book.levels('ask')).toEqual(oracle.asks);
    const bid = book.bestBid()!;
    const ask = book.bestAsk()!;
    expect(bid[0]).toBeLessThan(ask[0]);
    expect(bid).toEqual(oracle.bids[0]);
    expect(book.mid()).toBe((bid[0] + ask[0]) / 2);
  });

  it('deletes levels on size 0 and replaces everything on a snapshot', () => {
    const book = new OrderBook('X');
    const u = (snapshot: boolean, bids: [number, number][], asks: [number, number][]): DepthUpdate => ({
      kind: 'depth', symbol: 'X', ts: T0, firstUpdateId: 1, lastUpdateId: 1, snapshot, bids, asks,
    });
    book.apply(u(true, [[99, 1], [98, 2], [100, 3]], [[101, 1], [103, 1], [102, 5]]));
    expect(book.levels('bid')).toEqual([[100, 3], [99, 1], [98, 2]]);
    expect(book.levels('ask')).toEqual([[101, 1], [102, 5], [103, 1]]);
    book.apply(u(false, [[100, 0], [99.5, 4]], [[101, 0], [102, 6]]));
    expect(book.bestBid()).toEqual([99.5, 4]);
    expect(book.levels('ask')).toEqual([[102, 6], [103, 1]]);
    book.apply(u(true, [[50, 1]], []));
    expect(book.levels('bid')).toEqual([[50, 1]]);
    expect(book.bestAsk()).toBeUndefined();
    expect(book.mid()).toBeUndefined();
    expect(() => book.apply({ ...u(false, [], []), symbol: 'Y' })).toThrow('Y');
  });

  it('sequence checks: the shipped files are not contiguous, and a tampered diff chain is caught', async () => {
    const [snap, diff] = await binanceUpdates();
    const entries: QuarantineEntry[] = [];
    const gate = new QualityGate({}, (e) => entries.push(e));
    expect(gate.check(snap)).toBe(true);
    expect(gate.check(diff)).toBe(true);
    // Snapshot 2098021528332 and the diff starting at 2098041693435 are ~20M updates and 620 s apart.
    expect(entries.map((e) => e.reason)).toEqual(['SEQUENCE_GAP', 'STALE_FEED']);
    const next = { ...diff, ts: diff.ts + 100_000, firstUpdateId: diff.lastUpdateId + 1, lastUpdateId: diff.lastUpdateId + 10, prevUpdateId: diff.lastUpdateId };
    expect(gate.check(next)).toBe(true);
    expect(entries).toHaveLength(2);
    const tampered = { ...next, ts: next.ts + 100_000, firstUpdateId: next.lastUpdateId + 3, lastUpdateId: next.lastUpdateId + 9, prevUpdateId: next.lastUpdateId + 2 };
    expect(gate.check(tampered)).toBe(true);
    expect(entries.at(-1)).toMatchObject({ reason: 'SEQUENCE_GAP', rejected: false });
    expect(entries.at(-1)!.message).toContain(`pu ${next.lastUpdateId + 2} != previous last_update_id ${next.lastUpdateId}`);
    expect(gate.check({ ...next, ts: tampered.ts + 1 })).toBe(false); // a replayed diff
    expect(entries.at(-1)!.reason).toBe('DUPLICATE');
  });
});

describe('OfiCalculator', () => {
  it('sums Cont-Kukanov-Stoikov e_n per interval and normalises by mean touch depth', () => {
    const out: Ofi[] = [];
    const ofi = new OfiCalculator('X', S, (o) => out.push(o));
    ofi.update(T0 + 0.1 * S, 100, 5, 101, 4); // first state: no e_n
    ofi.update(T0 + 0.2 * S, 100, 7, 101, 4); // bid size up: +7 -5 ; ask unchanged: -4 +4 => +2
    ofi.update(T0 + 0.5 * S, 100.5, 3, 101, 2); // bid up: +3 ; ask same: -2 +4 => +5
    ofi.update(T0 + 0.9 * S, 100.5, 3, 100.8, 6); // bid same: 0 ; ask down: -6 => -6
    expect(out).toEqual([]);
    ofi.update(T0 + 1.3 * S, 100.2, 4, 100.8, 6); // bid down: -3 ; ask same: -6 +6 => -3
    expect(out).toEqual([
      { kind: 'ofi', symbol: 'X', ts: T0 + S, intervalUs: S, ofi: 1, normalizedOfi: 1 / ((4.5 + 5.5 + 2.5 + 4.5) / 4), events: 3, mid: 100.65 },
    ]);
    ofi.flush();
    expect(out[1]).toEqual({ kind: 'ofi', symbol: 'X', ts: T0 + 2 * S, intervalUs: S, ofi: -3, normalizedOfi: -3 / 5, events: 1, mid: 100.5 });
  });
});

describe('BarAggregator', () => {
  it('builds time bars from trades, skipping empty intervals, and flushes the partial bar', () => {
    const bars: Bar[] = [];
    const agg = new BarAggregator('X', 60 * S, (b) => bars.push(b));
    const trade = (sec: number, price: number, size: number) => agg.addTrade({ kind: 'trade', symbol: 'X', ts: T0 + sec * S, price, size });
    trade(10, 100, 1);
    trade(20, 102, 2);
    trade(50, 99, 1);
    trade(65, 101, 3);
    expect(bars).toHaveLength(1);
    trade(180, 103, 1);
    agg.flush();
    const bar = (m: number, o: number, h: number, l: number, c: number, v: number): Bar => ({ kind: 'bar', symbol: 'X', ts: T0 + m * 60 * S, intervalUs: 60 * S, open: o, high: h, low: l, close: c, volume: v });
    expect(bars).toEqual([bar(0, 100, 102, 99, 99, 4), bar(1, 101, 101, 101, 101, 3), bar(3, 103, 103, 103, 103, 1)]);
  });

  it('builds bars from quote mids with zero volume', () => {
    const bars: Bar[] = [];
    const agg = new BarAggregator('X', S, (b) => bars.push(b));
    agg.addMid(T0 + 1, 10);
    agg.addMid(T0 + 2, 12);
    agg.addMid(T0 + S, 11);
    expect(bars).toEqual([{ kind: 'bar', symbol: 'X', ts: T0, intervalUs: S, open: 10, high: 12, low: 10, close: 12, volume: 0 }]);
    expect(() => new BarAggregator('X', 0, () => {})).toThrow('positive');
  });
});
