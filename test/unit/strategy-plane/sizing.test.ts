import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../shared/domain/index.ts';
import { US_PER_YEAR } from '../../../shared/domain/time.ts';
import type { CostEstimator } from '../../../shared/ports/planes.ts';
import {
  createSizer,
  MarketStats,
  MeanVarianceSizer,
  MeanVarianceSizingSchema,
  SizingConfigSchema,
  solveMeanVariance,
  VolTargetSizingSchema,
  type SizedTarget,
} from '../../../shared/strategy-plane/index.ts';
import { bar, instrument, MINUTE, T0 } from './fixtures.ts';

function signal(strength: number, price: number, symbol = 'BTCUSDT', ts = T0): Signal {
  return { strategyId: 's', symbol, ts, strength, price, reason: '' };
}

function targets(out: readonly SizedTarget[] | string): readonly SizedTarget[] {
  if (typeof out === 'string') throw new Error(`sizer skipped: ${out}`);
  return out;
}

const deps = (stats = new MarketStats(20), costModel?: CostEstimator) => ({ instrument: (s: string) => instrument(s, 0.001, { multiplier: s === 'FUT' ? 10 : 1 }), stats, costModel });

describe('fixed sizers', () => {
  it('fixed-qty: target = strength * qty (default qty from DEFAULTS.backtest.quantity)', () => {
    expect(targets(createSizer(SizingConfigSchema.parse({ kind: 'fixed-qty', qty: 4 }), deps()).size(signal(-0.5, 100), () => 0))[0].qty).toBe(-2);
    expect(SizingConfigSchema.parse({ kind: 'fixed-qty' })).toMatchObject({ qty: 1 });
  });
  it('fixed-notional: target = strength * notional / (price * multiplier)', () => {
    const sizer = createSizer(SizingConfigSchema.parse({ kind: 'fixed-notional', notional: 10_000 }), deps());
    expect(targets(sizer.size(signal(1, 250), () => 0))[0].qty).toBe(40);
    expect(targets(sizer.size(signal(0.5, 250, 'FUT'), () => 0))[0].qty).toBe(2);
  });
});

describe('vol-target sizer', () => {
  // Log returns alternating +x, -x: population std over an even window is exactly x.
  function feed(stats: MarketStats, x: number, n: number, symbol = 'BTCUSDT'): number {
    let price = 100;
    for (let i = 0; i <= n; i++) {
      stats.observe(bar(i, price, symbol));
      price = i % 2 === 0 ? price * Math.exp(x) : price * Math.exp(-x);
    }
    return price;
  }

  it('sizes notional = strength * equity * annualVol / realised annual vol', () => {
    const stats = new MarketStats(20);
    feed(stats, 0.01, 40);
    const config = VolTargetSizingSchema.parse({ kind: 'vol-target', annualVol: 0.2, equity: 100_000, periodsPerYear: 10_000 });
    // Realised: 0.01 * sqrt(10000) = 1.0 annual -> leverage 0.2 -> notional 20,000.
    const t = targets(createSizer(config, deps(stats)).size(signal(1, 100), () => 0))[0];
    expect(t.qty).toBeCloseTo(200, 6);
  });

  it('annualises with the observed bar spacing when periodsPerYear is not given, and caps leverage', () => {
    const stats = new MarketStats(20);
    feed(stats, 0.0001, 40);
    const perYear = US_PER_YEAR / MINUTE;
    const annual = 0.0001 * Math.sqrt(perYear);
    const uncapped = createSizer(VolTargetSizingSchema.parse({ kind: 'vol-target', annualVol: 0.05, equity: 1000, maxLeverage: 10 }), deps(stats));
    expect(targets(uncapped.size(signal(1, 50), () => 0))[0].qty).toBeCloseTo((1000 * (0.05 / annual)) / 50, 6);
    const capped = createSizer(VolTargetSizingSchema.parse({ kind: 'vol-target', annualVol: 5, equity: 1000, maxLeverage: 2 }), deps(stats));
    expect(targets(capped.size(signal(-1, 50), () => 0))[0].qty).toBeCloseTo(-40, 9);
  });

  it('skips until the volatility window is full', () => {
    const stats = new MarketStats(20);
    feed(stats, 0.01, 5);
    expect(createSizer(VolTargetSizingSchema.parse({ kind: 'vol-target' }), deps(stats)).size(signal(1, 100), () => 0)).toBe('noVolEstimate');
  });

  it('property: |target notional| never exceeds equity * maxLeverage', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -0.2, max: 0.2, noNaN: true }), { minLength: 25, maxLength: 60 }),
        fc.double({ min: 0.01, max: 3, noNaN: true }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (returns, annualVol, maxLeverage, strength) => {
          const stats = new MarketStats(20);
          let price = 100;
          returns.forEach((r, i) => {
            price *= Math.exp(r);
            stats.observe(bar(i, price));
          });
          const config = VolTargetSizingSchema.parse({ kind: 'vol-target', annualVol, maxLeverage, equity: 50_000 });
          const out = createSizer(config, deps(stats)).size(signal(strength, price), () => 0);
          if (typeof out === 'string') return true;
          return Math.abs(out[0].qty * price) <= 50_000 * maxLeverage * (1 + 1e-12);
        },
      ),
    );
  });
});

describe('solveMeanVariance', () => {
  const cov = [
    [0.04, 0.01],
    [0.01, 0.09],
  ];
  const det = 0.04 * 0.09 - 0.01 * 0.01;
  const inv = [
    [0.09 / det, -0.01 / det],
    [-0.01 / det, 0.04 / det],
  ];
  const apply = (m: number[][], v: number[]) => m.map((row) => row[0] * v[0] + row[1] * v[1]);
  const loose = { riskAversion: 2, maxWeight: 10, grossLeverage: 10, current: [0, 0] };

  it('matches the analytic optimum inv(Cov) mu / lambda when no constraint binds', () => {
    const mu = [0.01, -0.004];
    const w = solveMeanVariance({ ...loose, mu, cov, longOnly: false });
    const expected = apply(inv, mu).map((x) => x / 2);
    expect(w[0]).toBeCloseTo(expected[0], 6);
    expect(w[1]).toBeCloseTo(expected[1], 6);
  });

  it('long-only clamps a negative-alpha asset at zero and solves the other alone', () => {
    const w = solveMeanVariance({ ...loose, mu: [0.01, -0.004], cov, longOnly: true });
    // KKT with w2 = 0: w1 = mu1 / (lambda * var1).
    expect(w[1]).toBe(0);
    expect(w[0]).toBeCloseTo(0.01 / (2 * 0.04), 6);
  });

  it('a binding gross-leverage cap gives inv(Cov)(mu - gamma 1) / lambda with sum = cap', () => {
    const mu = [0.04, 0.06];
    const L = 0.5;
    const w = solveMeanVariance({ ...loose, grossLeverage: L, mu, cov, longOnly: true });
    const a = apply(inv, mu);
    const b = apply(inv, [1, 1]);
    const gamma = (a[0] + a[1] - 2 * L) / (b[0] + b[1]);
    expect(gamma).toBeGreaterThan(0);
    expect(w[0]).toBeCloseTo((a[0] - gamma * b[0]) / 2, 6);
    expect(w[1]).toBeCloseTo((a[1] - gamma * b[1]) / 2, 6);
    expect(w[0] + w[1]).toBeCloseTo(L, 9);
  });

  it('a linear turnover cost above the marginal benefit keeps the current weights', () => {
    const w = solveMeanVariance({ ...loose, mu: [0.01, 0.01], cov, longOnly: true, current: [0.1, 0.05], linearCost: [1, 1] });
    expect(w[0]).toBeCloseTo(0.1, 6);
    expect(w[1]).toBeCloseTo(0.05, 6);
  });

  it('property: weights respect long-only, max weight and gross leverage', () => {
    const n = 3;
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n * n, maxLength: n * n }),
        fc.array(fc.double({ min: -0.05, max: 0.05, noNaN: true }), { minLength: n, maxLength: n }),
        fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
        fc.boolean(),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 2, noNaN: true }),
        (g, mu, current, longOnly, maxWeight, grossLeverage) => {
          // Cov = G G' / 10 + small diagonal: symmetric positive definite.
          const cov = Array.from({ length: n }, (_, i) =>
            Array.from({ length: n }, (_, j) => {
              let s = 0;
              for (let k = 0; k < n; k++) s += g[i * n + k] * g[j * n + k];
              return s / 10 + (i === j ? 1e-4 : 0);
            }),
          );
          const w = solveMeanVariance({ mu, cov, current, riskAversion: 3, longOnly, maxWeight, grossLeverage, linearCost: [0.001, 0.002, 0], quadraticCost: [0.01, 0, 0.02] });
          const gross = w.reduce((s, x) => s + Math.abs(x), 0);
          return gross <= grossLeverage + 1e-9 && w.every((x) => Math.abs(x) <= maxWeight + 1e-12 && (!longOnly || x >= 0));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('MeanVarianceSizer', () => {
  /** Two assets with a deterministic pseudo-random walk; B partly follows A. */
  function feed(sizer: MeanVarianceSizer, stats: MarketStats, bars: number): { a: number; b: number } {
    let a = 100;
    let b = 50;
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    for (let i = 0; i < bars; i++) {
      const shock = rand();
      a *= Math.exp(0.01 * shock);
      b *= Math.exp(0.006 * shock + 0.015 * rand());
      for (const e of [bar(i, a, 'A'), bar(i, b, 'B')]) {
        stats.observe(e);
        sizer.observe(e);
      }
    }
    return { a, b };
  }

  it('waits for a full covariance window, then sizes both assets within the constraints', () => {
    const stats = new MarketStats(20);
    const config = MeanVarianceSizingSchema.parse({ kind: 'mean-variance', symbols: ['A', 'B'], equity: 100_000, window: 30, maxWeight: 0.6, grossLeverage: 1, longOnly: true, riskAversion: 1 });
    const sizer = new MeanVarianceSizer(config, deps(stats));
    feed(sizer, stats, 10);
    expect(sizer.size(signal(1, 100, 'A'), () => 0)).toBe('noCovariance');
    const last = feed(sizer, stats, 40);
    expect(sizer.size(signal(1, 100, 'C'), () => 0)).toBe('notInUniverse');
    const out = targets(sizer.size(signal(1, last.a, 'A', T0 + 41 * MINUTE), () => 0));
    expect(out.map((t) => t.symbol)).toEqual(['A', 'B']);
    const weights = out.map((t) => (t.qty * t.price) / 100_000);
    // Strong A alpha with a small risk aversion pushes A to its cap; B has no signal, so no long need.
    expect(weights[0]).toBeCloseTo(0.6, 6);
    expect(weights[1]).toBeGreaterThanOrEqual(0);
    expect(weights[0] + weights[1]).toBeLessThanOrEqual(1 + 1e-9);
  });

  it('trades less toward the optimum when the cost model charges for turnover', () => {
    const run = (costModel?: CostEstimator) => {
      const stats = new MarketStats(20);
      const config = MeanVarianceSizingSchema.parse({ kind: 'mean-variance', symbols: ['A', 'B'], equity: 100_000, window: 30, riskAversion: 20, longOnly: false });
      const sizer = new MeanVarianceSizer(config, { ...deps(stats), costModel });
      const last = feed(sizer, stats, 40);
      sizer.size(signal(0.5, last.b, 'B'), () => 0);
      const out = targets(sizer.size(signal(1, last.a, 'A'), () => 0));
      return out.reduce((s, t) => s + Math.abs(t.qty * t.price), 0);
    };
    const free = run();
    const costly = run({ estimateBps: (_s, f) => 2 + 50 * Math.sqrt(f.participation) });
    expect(free).toBeGreaterThan(0);
    expect(costly).toBeLessThan(free);
  });
});
