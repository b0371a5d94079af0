import { describe, expect, it } from 'vitest';
import type { Fill, Side } from '../../../shared/domain/index.ts';
import { PerformanceTracker, StatisticsSchema } from '../../../shared/backtest/stats.ts';

const DAY_US = 86_400_000_000;
const T0 = 1_640_995_200_000_000; // 2022-01-01T00:00:00Z

let seq = 0;
function fill(side: Side, qty: number, price: number, fee = 0, symbol = 'BTCUSDT', ts = T0): Fill {
  seq++;
  return {
    execId: `e${seq}`,
    clientOrderId: `order-${String(seq).padStart(4, '0')}`,
    accountId: 'paper-1',
    strategyId: 's1',
    symbol,
    side,
    qty,
    price,
    fee,
    liquidity: 'taker',
    ts,
    arrivalPrice: price,
  };
}

function sampleStd(xs: number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
}

describe('PerformanceTracker equity statistics', () => {
  // Equity 100 -> 110 -> 99 -> 120 on consecutive days, starting cash 100.
  const tracker = new PerformanceTracker({ initialCash: 100 });
  const equities = [100, 110, 99, 120];
  const exposures = [0, 50, 50, 0];
  equities.forEach((e, i) => tracker.onMark(T0 + i * DAY_US, e, exposures[i], 1000 + i));
  const s = tracker.finalize();
  const returns = [0, 0.1, -0.1, 120 / 99 - 1];
  const mean = returns.reduce((a, b) => a + b, 0) / 4;

  it('computes return, drawdown depth and duration', () => {
    expect(s.totalReturn).toBeCloseTo(0.2, 12);
    expect(s.maxDrawdown).toBeCloseTo(0.1, 12); // 110 -> 99
    expect(s.maxDrawdownDurationDays).toBeCloseTo(2, 12); // peak day 1, recovered day 3
    expect(s.startTs).toBe(T0);
    expect(s.endTs).toBe(T0 + 3 * DAY_US);
    expect(s.startEquity).toBe(100);
    expect(s.endEquity).toBe(120);
    expect(s.bars).toBe(4);
    expect(s.exposure).toBeCloseTo(0.5, 12);
  });

  it('annualises with the observed mark frequency', () => {
    expect(s.periodsPerYear).toBeCloseTo(365.25, 9);
    expect(s.annualVolatility).toBeCloseTo(sampleStd(returns) * Math.sqrt(365.25), 9);
    expect(s.sharpe).toBeCloseTo((mean / sampleStd(returns)) * Math.sqrt(365.25), 9);
    // Downside deviation: sqrt(sum(min(r,0)^2) / n) = sqrt(0.01 / 4) = 0.05.
    expect(s.sortino).toBeCloseTo((mean / 0.05) * Math.sqrt(365.25), 9);
    const cagr = Math.pow(1.2, 365.25 / 3) - 1;
    expect(s.cagr! / cagr).toBeCloseTo(1, 9);
    expect(s.calmar! / (cagr / 0.1)).toBeCloseTo(1, 9);
  });

  it('reports an unrecovered drawdown up to the last mark', () => {
    const t = new PerformanceTracker({ initialCash: 100 });
    [100, 120, 90, 100].forEach((e, i) => t.onMark(T0 + i * DAY_US, e, 0, 1));
    const st = t.finalize();
    expect(st.maxDrawdown).toBeCloseTo(0.25, 12);
    expect(st.maxDrawdownDurationDays).toBeCloseTo(2, 12);
  });

  it('keeps the longest drawdown, not the deepest', () => {
    const t = new PerformanceTracker({ initialCash: 100 });
    // Deep short dip (days 1-2), then a shallow long one (days 3-7).
    [100, 50, 100, 99, 99, 99, 99, 100].forEach((e, i) => t.onMark(T0 + i * DAY_US, e, 0, 1));
    const st = t.finalize();
    expect(st.maxDrawdown).toBeCloseTo(0.5, 12);
    expect(st.maxDrawdownDurationDays).toBeCloseTo(5, 12);
  });

  it('uses null, not NaN or Infinity, for undefined ratios', () => {
    const flat = new PerformanceTracker({ initialCash: 100 });
    for (let i = 0; i < 10; i++) flat.onMark(T0 + i * DAY_US, 100, 0, 1);
    flat.onFill(fill('buy', 1, 10));
    flat.onFill(fill('sell', 1, 12));
    const st = flat.finalize();
    expect(st.sharpe).toBeNull();
    expect(st.sortino).toBeNull();
    expect(st.calmar).toBeNull();
    expect(st.profitFactor).toBeNull(); // no losing trade
    expect(st.winRate).toBe(1);
    expect(st.totalReturn).toBe(0);

    const empty = new PerformanceTracker({ initialCash: 100 }).finalize();
    expect(empty.winRate).toBeNull();
    expect(empty.expectancy).toBeNull();
    expect(empty.periodsPerYear).toBeNull();
    expect(empty.cagr).toBeNull();
    expect(empty.exposure).toBeNull();
    expect(empty.startTs).toBeNull();
    const roundTripped = JSON.parse(JSON.stringify(empty));
    expect(StatisticsSchema.parse(roundTripped)).toEqual(empty);
  });

  it('rejects out-of-order and non-finite marks', () => {
    const t = new PerformanceTracker({ initialCash: 100 });
    t.onMark(T0 + DAY_US, 100, 0, 1);
    expect(() => t.onMark(T0, 100, 0, 1)).toThrow(/before previous mark/);
    expect(() => t.onMark(T0 + 2 * DAY_US, Number.NaN, 0, 1)).toThrow(/finite/);
    expect(() => new PerformanceTracker({ initialCash: 0 })).toThrow(/initialCash/);
  });
});

describe('PerformanceTracker trade statistics', () => {
  it('books round trips, flips and fees', () => {
    const t = new PerformanceTracker({ initialCash: 100 });
    [100, 110, 99, 120].forEach((e, i) => t.onMark(T0 + i * DAY_US, e, 0, 1));
    // Long 2 @100 -> sell @110, fees 2: +18.
    t.onFill(fill('buy', 2, 100, 1));
    t.onFill(fill('sell', 2, 110, 1));
    // Short 1 @120 -> cover @125, fees 1: -6.
    t.onFill(fill('sell', 1, 120, 0.5));
    t.onFill(fill('buy', 1, 125, 0.5));
    // Long 1 @100 + 1 @110 (avg 105), sell 3 @120 fee 3: closes 2 (+30 - 2 = 28), opens short 1 (fee 1)...
    t.onFill(fill('buy', 1, 100));
    t.onFill(fill('buy', 1, 110));
    t.onFill(fill('sell', 3, 120, 3));
    // ...covered @118: +2 - 1 = 1.
    t.onFill(fill('buy', 1, 118));
    const s = t.finalize();
    expect(s.tradeCount).toBe(4);
    expect(s.fillCount).toBe(8);
    expect(s.winRate).toBeCloseTo(0.75, 12);
    expect(s.profitFactor).toBeCloseTo((18 + 28 + 1) / 6, 12);
    expect(s.expectancy).toBeCloseTo((18 - 6 + 28 + 1) / 4, 12);
    expect(s.fees).toBeCloseTo(6, 12);
    const notional = 200 + 220 + 120 + 125 + 100 + 110 + 360 + 118;
    expect(s.turnover).toBeCloseTo(notional / ((100 + 110 + 99 + 120) / 4), 9);
  });

  it('tracks symbols independently and applies the contract multiplier', () => {
    const t = new PerformanceTracker({ initialCash: 1000 });
    t.onFill(fill('buy', 1, 100, 0, 'A'), 10);
    t.onFill(fill('buy', 1, 50, 0, 'B'));
    t.onFill(fill('sell', 1, 101, 0, 'A'), 10); // +10
    expect(t.finalize().tradeCount).toBe(1);
    t.onFill(fill('sell', 1, 45, 0, 'B')); // -5
    const s = t.finalize();
    expect(s.tradeCount).toBe(2);
    expect(s.expectancy).toBeCloseTo(2.5, 12);
    expect(s.profitFactor).toBeCloseTo(2, 12);
  });

  it('treats a position that sums to ~0 in floating point as flat', () => {
    const t = new PerformanceTracker({ initialCash: 1000 });
    t.onFill(fill('buy', 0.1, 10));
    t.onFill(fill('buy', 0.2, 10));
    t.onFill(fill('sell', 0.3, 11));
    const s = t.finalize();
    expect(s.tradeCount).toBe(1);
    expect(s.expectancy).toBeCloseTo(0.3, 9);
  });

  it('keeps a bounded number of fill markers and counts the rest', () => {
    const t = new PerformanceTracker({ initialCash: 1000, maxMarkers: 50 });
    for (let i = 0; i < 80; i++) t.onFill(fill(i % 2 === 0 ? 'buy' : 'sell', 1, 100 + i, 0, 'X', T0 + i));
    const c = t.curves();
    expect(c.markers).toHaveLength(50);
    expect(c.markersDropped).toBe(30);
    expect(c.markers[0]).toEqual({ ts: T0, symbol: 'X', side: 'buy', price: 100, qty: 1 });
    expect(t.finalize().fillCount).toBe(80);
  });
});

describe('PerformanceTracker curves', () => {
  it('downsamples to at most maxCurvePoints, keeping the first and last marks and the worst drawdown', () => {
    const t = new PerformanceTracker({ initialCash: 100, maxCurvePoints: 101 });
    const n = 10_007;
    for (let i = 0; i < n; i++) {
      const equity = i === 5_555 ? 60 : 100 + i * 0.01;
      const price = i === 7_777 ? 500 : 200;
      t.onMark(T0 + i * 60_000_000, equity, i % 3, price);
    }
    const c = t.curves();
    expect(c.ts.length).toBeLessThanOrEqual(101);
    expect(c.ts.length).toBeGreaterThan(50);
    for (const series of [c.equity, c.drawdown, c.exposure, c.price, c.priceLow, c.priceHigh]) expect(series).toHaveLength(c.ts.length);
    expect(c.ts[0]).toBe(T0);
    expect(c.equity[0]).toBe(100);
    expect(c.ts.at(-1)).toBe(T0 + (n - 1) * 60_000_000);
    expect(c.equity.at(-1)).toBeCloseTo(100 + (n - 1) * 0.01, 9);
    for (let i = 1; i < c.ts.length; i++) expect(c.ts[i]).toBeGreaterThan(c.ts[i - 1]);
    expect(Math.max(...c.drawdown)).toBeCloseTo(t.finalize().maxDrawdown, 12);
    expect(Math.max(...c.priceHigh)).toBe(500);
    expect(c.marksPerPoint).toBeGreaterThan(1);
  });

  it('respects the limit and keeps first and last marks for every run length', () => {
    for (const maxCurvePoints of [5, 6, 9]) {
      for (let n = 1; n <= 200; n++) {
        const t = new PerformanceTracker({ initialCash: 100, maxCurvePoints });
        for (let i = 0; i < n; i++) t.onMark(T0 + i, 100 + i, 0, 1);
        const c = t.curves();
        expect(c.ts.length).toBeLessThanOrEqual(maxCurvePoints);
        expect(c.ts[0]).toBe(T0);
        expect(c.equity.at(-1)).toBe(100 + n - 1);
        for (let i = 1; i < c.ts.length; i++) expect(c.ts[i]).toBeGreaterThan(c.ts[i - 1]);
      }
    }
  });

  it('keeps every mark while under the limit', () => {
    const t = new PerformanceTracker({ initialCash: 100, maxCurvePoints: 50 });
    for (let i = 0; i < 20; i++) t.onMark(T0 + i, 100 + i, 0, 1);
    const c = t.curves();
    expect(c.equity).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(c.marksPerPoint).toBe(1);
  });

  it('stays memory-bounded over 1M marks', () => {
    const t = new PerformanceTracker({ initialCash: 100 });
    for (let i = 0; i < 1_000_000; i++) t.onMark(T0 + i * 1_000_000, 100 + Math.sin(i / 1000), 1, 10 + Math.cos(i / 500));
    const c = t.curves();
    expect(c.ts.length).toBeLessThanOrEqual(2000);
    expect(c.ts.length).toBeGreaterThan(900);
    expect(c.ts[0]).toBe(T0);
    expect(c.ts.at(-1)).toBe(T0 + 999_999 * 1_000_000);
    const s = t.finalize();
    expect(s.bars).toBe(1_000_000);
    expect(s.exposure).toBe(1);
  });
});
