import { describe, expect, it } from 'vitest';
import { createStrategy, STRATEGY_CATALOG } from '../../../shared/strategy-plane/index.ts';
import type { StrategyContext } from '../../../shared/ports/planes.ts';
import { instrument, ofi, quote, runBars } from './fixtures.ts';

// Hand-computed, fast=2 / slow=3 (bar: fast SMA vs slow SMA):
//  3: 11.5 > 11      first comparison, no signal
//  4: 11.5 > 11.33
//  5: 10.5 < 11      down-cross
//  6: 9.5 < 10;  7: 9.5 < 9.67
//  8: 10.5 > 10      up-cross
//  9: 11.5 > 11; 10: 12.5 > 12; 11: 12.5 > 12.33
// 12: 11 < 11.67     down-cross
const CLOSES = [10, 11, 12, 11, 10, 9, 10, 11, 12, 13, 12, 10];

describe('sma-cross', () => {
  it('signals exactly on the hand-computed crossings, long-only', () => {
    const s = createStrategy('sma-cross', { fast: 2, slow: 3 });
    expect(runBars(s, CLOSES)).toEqual([
      { index: 5, strength: 0, price: 10 },
      { index: 8, strength: 1, price: 11 },
      { index: 12, strength: 0, price: 10 },
    ]);
  });

  it('goes short on down-crosses when longOnly is false (CLI strings accepted)', () => {
    const s = createStrategy('sma-cross', { fast: '2', slow: '3', longOnly: 'false' });
    expect(runBars(s, CLOSES).map((e) => [e.index, e.strength])).toEqual([
      [5, -1],
      [8, 1],
      [12, -1],
    ]);
  });

  it('counts an equal previous comparison as "not above": 5,5,5 then 6 is an up-cross', () => {
    const s = createStrategy('sma-cross', { fast: 2, slow: 3 });
    expect(runBars(s, [5, 5, 5, 6]).map((e) => [e.index, e.strength])).toEqual([[4, 1]]);
  });

  it('stays silent before slow bars and a previous comparison exist', () => {
    const s = createStrategy('sma-cross', { fast: 2, slow: 3 });
    // Bar 3 is above (11.5 > 11) but is the first comparison.
    expect(runBars(s, [10, 11, 12])).toEqual([]);
  });

  it('keeps exact averages over many wraps of its ring (running sums do not drift)', () => {
    const s = createStrategy('sma-cross', { fast: 3, slow: 7, longOnly: false });
    const closes = Array.from({ length: 5000 }, (_, i) => 40_000 + 500 * Math.sin(i / 9) + 0.01 * (i % 13));
    const got = runBars(s, closes);
    // Reference: averages recomputed from scratch at every bar.
    const expected: [number, number][] = [];
    let prev: number | undefined;
    for (let i = 6; i < closes.length; i++) {
      const fast = closes.slice(i - 2, i + 1).reduce((a, b) => a + b) / 3;
      const slow = closes.slice(i - 6, i + 1).reduce((a, b) => a + b) / 7;
      const cmp = Math.sign(fast - slow);
      if (prev !== undefined && cmp === 1 && prev <= 0) expected.push([i + 1, 1]);
      if (prev !== undefined && cmp === -1 && prev >= 0) expected.push([i + 1, -1]);
      prev = cmp;
    }
    expect(expected.length).toBeGreaterThan(50);
    expect(got.map((e) => [e.index, e.strength])).toEqual(expected);
  });
});

describe('mean-reversion', () => {
  // window 5, entryZ 1.5, exitZ 0.5 (population std):
  //  bar 6 (90): window 100,100,100,100,90 mean 98 sd 4 z -2 -> long
  //  bar 7 (100): mean 98 sd 4 z 0.5 -> hold (not inside 0.5)
  //  bar 8 (98): mean 97.6 sd 3.88 z 0.10 -> flat
  //  bar 9 (110): mean 99.6 sd 6.37 z 1.63 -> short
  const closes = [100, 100, 100, 100, 100, 90, 100, 98, 110];
  it('enters against the move beyond entryZ and exits inside exitZ', () => {
    const s = createStrategy('mean-reversion', { window: 5, entryZ: 1.5, exitZ: 0.5 });
    expect(runBars(s, closes).map((e) => [e.index, e.strength])).toEqual([
      [6, 1],
      [8, 0],
      [9, -1],
    ]);
  });
  it('never shorts when longOnly', () => {
    const s = createStrategy('mean-reversion', { window: 5, entryZ: 1.5, exitZ: 0.5, longOnly: true });
    expect(runBars(s, closes).map((e) => [e.index, e.strength])).toEqual([
      [6, 1],
      [8, 0],
    ]);
  });
});

describe('momentum', () => {
  // lookback 3, threshold 0.05: r at bar 4 = 103/100-1 = .03; bar 5 = 110/101-1 = .089 -> long;
  // bar 6 = 111/102-1 = .088 hold; bar 7 = 100/103-1 = -.029 -> flat; bar 8 = 95/110-1 = -.136 -> short
  const closes = [100, 101, 102, 103, 110, 111, 100, 95];
  it('follows the sign of the lookback return beyond the threshold', () => {
    const s = createStrategy('momentum', { lookback: 3, threshold: 0.05 });
    expect(runBars(s, closes).map((e) => [e.index, e.strength])).toEqual([
      [5, 1],
      [7, 0],
      [8, -1],
    ]);
  });
  it('stays flat instead of short when longOnly', () => {
    const s = createStrategy('momentum', { lookback: 3, threshold: 0.05, longOnly: true });
    expect(runBars(s, closes).map((e) => [e.index, e.strength])).toEqual([
      [5, 1],
      [7, 0],
    ]);
  });
});

describe('ofi', () => {
  function collect(): { ctx: StrategyContext; out: [number, number][] } {
    const out: [number, number][] = [];
    const ctx: StrategyContext = { position: () => 0, instrument: (s) => instrument(s), signal: (_s, ts, strength) => out.push([ts, strength]) };
    return { ctx, out };
  }

  it('signals on an OFI z-score beyond threshold and decays after horizon observations', () => {
    // window 3: history 0,1,-1 (mean 0, sd .816) -> 2 scores z 2.45: long.
    // Then 0.5 (z -0.13) and 0.5 (z 0): two quiet observations, horizon 2 -> flat on the second.
    const s = createStrategy('ofi', { window: 3, threshold: 1, horizon: 2 });
    const { ctx, out } = collect();
    const values = [0, 1, -1, 2, 0.5, 0.5];
    values.forEach((v, i) => s.onOfi?.(ofi(i, v), ctx));
    expect(out).toEqual([
      [ofi(3, 0).ts, 1],
      [ofi(5, 0).ts, 0],
    ]);
  });

  it('derives order flow from quotes: a growing bid queue is buying pressure', () => {
    const s = createStrategy('ofi', { window: 3, threshold: 1, horizon: 5 });
    const { ctx, out } = collect();
    // Alternating small changes build a history with some spread, then the bid size jumps.
    const quotes = [
      quote(0, 99, 101, 10, 10),
      quote(1, 99, 101, 11, 10), // e = +1
      quote(2, 99, 101, 10, 10), // e = -1
      quote(3, 99, 101, 11, 10), // e = +1
      quote(4, 99, 101, 40, 10), // e = +29 -> long
    ];
    for (const q of quotes) s.onQuote?.(q, ctx);
    expect(out).toEqual([[quotes[4].ts, 1]]);
  });
});

describe('createStrategy validation', () => {
  it('rejects an unknown param and lists the valid ones', () => {
    expect(() => createStrategy('sma-cross', { fats: 5 })).toThrow(/unknown param 'fats'.*valid params: fast \(int, default 10\), slow \(int, default 30\), longOnly \(boolean, default true\)/);
  });
  it('rejects fast >= slow', () => {
    expect(() => createStrategy('sma-cross', { fast: 30, slow: 30 })).toThrow(/fast \(30\) must be < slow \(30\)/);
  });
  it('rejects non-integer and non-positive lengths and non-numeric text', () => {
    expect(() => createStrategy('sma-cross', { fast: 2.5 })).toThrow(/fast/);
    expect(() => createStrategy('sma-cross', { fast: 0 })).toThrow(/fast/);
    expect(() => createStrategy('sma-cross', { slow: 'abc' })).toThrow(/slow/);
    expect(() => createStrategy('sma-cross', { longOnly: 'maybe' })).toThrow(/longOnly/);
  });
  it('rejects exitZ >= entryZ and an unknown strategy name', () => {
    expect(() => createStrategy('mean-reversion', { entryZ: 1, exitZ: 1 })).toThrow(/exitZ \(1\) must be < entryZ \(1\)/);
    expect(() => createStrategy('nope', {})).toThrow(/unknown strategy 'nope'; valid strategies: sma-cross, mean-reversion, momentum, ofi/);
  });
  it('catalog lists every strategy with defaults that createStrategy accepts', () => {
    expect(STRATEGY_CATALOG.map((s) => s.name)).toEqual(['sma-cross', 'mean-reversion', 'momentum', 'ofi']);
    for (const entry of STRATEGY_CATALOG) {
      const defaults = Object.fromEntries(entry.params.map((p) => [p.name, p.default]));
      expect(createStrategy(entry.name, defaults).id).toBe(entry.name);
    }
    const sma = STRATEGY_CATALOG[0].params;
    expect(sma.map((p) => [p.name, p.default])).toEqual([
      ['fast', 10],
      ['slow', 30],
      ['longOnly', true],
    ]);
  });
});
