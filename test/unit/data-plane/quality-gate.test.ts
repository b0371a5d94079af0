import { describe, expect, it } from 'vitest';
import { QualityGate } from '../../../shared/data-plane/index.ts';
import type { Bar, DepthUpdate, Quote, Trade } from '../../../shared/domain/market.ts';
import type { QuarantineEntry } from '../../../shared/domain/system.ts';

const MIN = 60_000_000;
const DAY = 86_400_000_000;
const T0 = Date.UTC(2022, 0, 3) * 1000; // a Monday

function gate(opts = {}) {
  const entries: QuarantineEntry[] = [];
  return { gate: new QualityGate(opts, (e) => entries.push(e)), entries };
}
const bar = (ts: number, close: number, extra: Partial<Bar> = {}): Bar => ({
  kind: 'bar', symbol: 'BTC', ts, intervalUs: MIN, open: close, high: close, low: close, close, volume: 1, ...extra,
});
const quote = (ts: number, bid: number, ask: number, extra: Partial<Quote> = {}): Quote => ({ kind: 'quote', symbol: 'BTC', ts, bid, ask, ...extra });
const trade = (ts: number, price: number, extra: Partial<Trade> = {}): Trade => ({ kind: 'trade', symbol: 'BTC', ts, price, size: 1, ...extra });
const diff = (ts: number, first: number, last: number, extra: Partial<DepthUpdate> = {}): DepthUpdate => ({
  kind: 'depth', symbol: 'BTC', ts, firstUpdateId: first, lastUpdateId: last, snapshot: false, bids: [[100, 1]], asks: [[101, 1]], ...extra,
});
/** Close prices wiggling by ±0.1%: a calm series to judge outliers against. */
const calm = (n: number) => Array.from({ length: n }, (_, i) => 100 * (1 + (i % 2 === 0 ? 0.001 : -0.001) * ((i % 5) + 1) / 5));

describe('QualityGate', () => {
  it('rejects invalid values on every event kind', () => {
    const { gate: g, entries } = gate();
    expect(g.check(bar(T0, NaN))).toBe(false);
    expect(g.check(bar(T0, 100, { high: 99 }))).toBe(false);
    expect(g.check(bar(T0, 100, { volume: -1 }))).toBe(false);
    expect(g.check(quote(T0, -1, 100))).toBe(false);
    expect(g.check(trade(T0, 100, { size: 0 }))).toBe(false);
    expect(g.check(trade(T0 + 0.5, 100))).toBe(false);
    expect(g.check(diff(T0, 1, 1, { bids: [[Infinity, 1]] }))).toBe(false);
    expect(entries.map((e) => e.reason)).toEqual(Array(7).fill('INVALID_VALUE'));
    expect(entries.every((e) => e.rejected && e.symbol === 'BTC')).toBe(true);
    expect(g.counts().INVALID_VALUE).toBe(7);
  });

  it('rejects crossed quotes and crossed snapshots but lets a locked quote pass', () => {
    const { gate: g, entries } = gate();
    expect(g.check(quote(T0, 101, 100), 'feed:7')).toBe(false);
    expect(g.check(quote(T0, 100, 100))).toBe(true);
    expect(g.check(diff(T0, 5, 5, { snapshot: true, bids: [[102, 1]], asks: [[101, 1]] }))).toBe(false);
    expect(entries.map((e) => [e.reason, e.where])).toEqual([['CROSSED_BOOK', 'feed:7'], ['CROSSED_BOOK', 'BTC']]);
  });

  it('rejects out-of-order and duplicate bars, quotes and trades', () => {
    const { gate: g, entries } = gate();
    expect(g.check(bar(T0 + MIN, 100))).toBe(true);
    expect(g.check(bar(T0, 100))).toBe(false);
    expect(g.check(bar(T0 + MIN, 100))).toBe(false);
    expect(g.check(quote(T0 + 5, 99, 100, { bidSize: 1, askSize: 2 }))).toBe(true);
    expect(g.check(quote(T0 + 5, 99, 100, { bidSize: 1, askSize: 2 }))).toBe(false);
    expect(g.check(quote(T0 + 5, 99, 100, { bidSize: 3, askSize: 2 }))).toBe(true); // same instant, new state
    expect(g.check(quote(T0 + 4, 99, 100))).toBe(false);
    expect(g.check(trade(T0 + 10, 100, { tradeId: 'a' }))).toBe(true);
    expect(g.check(trade(T0 + 10, 100, { tradeId: 'b' }))).toBe(true);
    expect(g.check(trade(T0 + 11, 100, { tradeId: 'a' }))).toBe(false);
    expect(g.check(trade(T0 + 9, 100, { tradeId: 'c' }))).toBe(false);
    expect(entries.map((e) => e.reason)).toEqual(['OUT_OF_ORDER', 'DUPLICATE', 'DUPLICATE', 'OUT_OF_ORDER', 'DUPLICATE', 'OUT_OF_ORDER']);
  });

  it('keeps state per symbol', () => {
    const { gate: g, entries } = gate();
    expect(g.check(bar(T0 + MIN, 100))).toBe(true);
    expect(g.check({ ...bar(T0, 100), symbol: 'ETH' })).toBe(true);
    expect(entries).toEqual([]);
  });

  it('flags missing bars with their count and lets the bar pass', () => {
    const { gate: g, entries } = gate();
    expect(g.check(bar(T0, 100))).toBe(true);
    expect(g.check(bar(T0 + MIN, 100))).toBe(true);
    expect(g.check(bar(T0 + 5 * MIN, 100))).toBe(true);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ reason: 'MISSING_BARS', rejected: false, ts: T0 + 5 * MIN });
    expect(entries[0].message).toMatch(/^3 bar\(s\) missing/);
  });

  it('does not count weekends as missing daily equity bars, but does count a weekday holiday', () => {
    const { gate: g, entries } = gate();
    const daily = (ts: number) => bar(ts, 100, { intervalUs: DAY });
    expect(g.check(daily(T0 - 3 * DAY))).toBe(true); // Friday
    expect(g.check(daily(T0))).toBe(true); // Monday
    expect(entries).toEqual([]);
    expect(g.check(daily(T0 + 2 * DAY))).toBe(true); // Wednesday: Tuesday missing
    expect(entries.map((e) => [e.reason, e.message.split(' ')[0]])).toEqual([['MISSING_BARS', '1']]);
  });

  it('rejects an outlier against median/MAD of recent returns, then accepts a persistent new level', () => {
    const { gate: g, entries } = gate({ outlierZ: 12, outlierWindow: 50 });
    let ts = T0;
    for (const close of calm(60)) expect(g.check(bar((ts += MIN), close))).toBe(true);
    expect(g.check(bar((ts += MIN), 120))).toBe(false);
    expect(entries.at(-1)).toMatchObject({ reason: 'OUTLIER', rejected: true });
    expect(entries.at(-1)!.message).toContain('robust sigmas');
    expect(g.check(bar((ts += MIN), 100.05))).toBe(true); // the bad print did not move the reference
    expect(g.check(bar((ts += MIN), 130))).toBe(false);
    expect(g.check(bar((ts += MIN), 130.1))).toBe(true); // the level held: a regime change
    expect(g.check(bar((ts += MIN), 130.2))).toBe(true);
    expect(g.counts().OUTLIER).toBe(2);
  });

  it('ignores moves below outlierMinReturn however large their z-score', () => {
    const { gate: g, entries } = gate({ outlierZ: 12, outlierWindow: 50, outlierMinReturn: 0.05 });
    let ts = T0;
    for (const close of calm(60)) expect(g.check(bar((ts += MIN), close))).toBe(true);
    expect(g.check(bar((ts += MIN), 104))).toBe(true); // 4%: ~40 sigmas of a calm series, but not a bad print
    expect(entries).toEqual([]);
    const strict = gate({ outlierZ: 12, outlierWindow: 50, outlierMinReturn: 0.01 });
    ts = T0;
    for (const close of calm(60)) strict.gate.check(bar((ts += MIN), close));
    expect(strict.gate.check(bar((ts += MIN), 104))).toBe(false);
  });

  it('flags event-time gaps as stale, and wall-clock silence once per episode', () => {
    const { gate: g, entries } = gate({ staleAfterUs: 60_000_000 });
    expect(g.check(quote(T0, 99, 100))).toBe(true);
    expect(g.check(quote(T0 + 61_000_000, 99, 100))).toBe(true);
    expect(entries.map((e) => [e.reason, e.rejected])).toEqual([['STALE_FEED', false]]);
    g.checkStale(T0 + 100_000_000);
    expect(entries).toHaveLength(1);
    g.checkStale(T0 + 122_000_000);
    g.checkStale(T0 + 130_000_000);
    expect(entries.map((e) => e.reason)).toEqual(['STALE_FEED', 'STALE_FEED']);
    expect(g.check(quote(T0 + 130_000_000, 99, 100))).toBe(true);
    g.checkStale(T0 + 200_000_000);
    expect(g.counts().STALE_FEED).toBe(4);
  });

  it('flags depth sequence gaps (spot U = u+1, futures pu = u, after snapshot) and rejects covered diffs', () => {
    const { gate: g, entries } = gate();
    expect(g.check(diff(T0, 100, 100, { snapshot: true }))).toBe(true);
    expect(g.check(diff(T0 + 1, 95, 100))).toBe(false); // already in the snapshot
    expect(g.check(diff(T0 + 1, 98, 105))).toBe(true); // straddles the snapshot
    expect(g.check(diff(T0 + 2, 106, 110))).toBe(true);
    expect(g.check(diff(T0 + 3, 112, 115))).toBe(true); // 111 lost
    expect(g.check(diff(T0 + 4, 116, 120, { prevUpdateId: 115 }))).toBe(true);
    expect(g.check(diff(T0 + 5, 130, 140, { prevUpdateId: 125 }))).toBe(true); // pu breaks the chain
    expect(entries.map((e) => [e.reason, e.rejected])).toEqual([
      ['DUPLICATE', true],
      ['SEQUENCE_GAP', false],
      ['SEQUENCE_GAP', false],
    ]);
    expect(entries[1].message).toContain('112');
    expect(entries[2].message).toContain('pu 125');
    expect(g.check(diff(T0 + 6, 150, 160, { snapshot: true }))).toBe(true);
    expect(g.check(diff(T0 + 7, 170, 180))).toBe(true);
    expect(entries.at(-1)!.message).toContain('after snapshot 160');
  });

  it('counts every reason, including entries recorded from readers', () => {
    const { gate: g, entries } = gate();
    g.record({ reason: 'PARSE_ERROR', where: 'f.csv:3', message: 'x', rejected: true });
    expect(entries).toHaveLength(1);
    expect(Object.keys(g.counts()).sort()).toEqual(
      ['CROSSED_BOOK', 'DUPLICATE', 'INVALID_VALUE', 'MISSING_BARS', 'OUTLIER', 'OUT_OF_ORDER', 'PARSE_ERROR', 'SEQUENCE_GAP', 'STALE_FEED'].sort(),
    );
    expect(g.counts().PARSE_ERROR).toBe(1);
    expect(() => new QualityGate({ outlierWindow: 0 }, () => {})).toThrow('outlierWindow');
  });
});
