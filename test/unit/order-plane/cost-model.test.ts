import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../shared/config/defaults.ts';
import { implementationShortfallBps, OnlineCostModel } from '../../../shared/order-plane/index.ts';

/** Deterministic uniform [0, 1) generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('implementation shortfall', () => {
  it('is positive when paying up on either side', () => {
    expect(implementationShortfallBps({ side: 'buy', price: 101, arrivalPrice: 100 })).toBeCloseTo(100, 10);
    expect(implementationShortfallBps({ side: 'sell', price: 99, arrivalPrice: 100 })).toBeCloseTo(100, 10);
    expect(implementationShortfallBps({ side: 'sell', price: 101, arrivalPrice: 100 })).toBeCloseTo(-100, 10);
  });
});

describe('OnlineCostModel', () => {
  it('starts from the DEFAULTS.costModel prior and never estimates a negative cost', () => {
    const m = new OnlineCostModel();
    const { a, b, c } = DEFAULTS.costModel;
    expect(m.coefficients('X')).toEqual({ a, b, c });
    expect(m.estimateBps('X', { spreadBps: 4, volBps: 30, participation: 0.04 })).toBeCloseTo(a + b * 4 + c * 30 * 0.2, 10);
    const rebate = new OnlineCostModel({ a: -5, b: 0, c: 0 });
    expect(rebate.estimateBps('X', { spreadBps: 0, volBps: 0, participation: 0 })).toBe(0);
  });

  it('learns a known relation: the coefficients converge and RMSE approaches the noise', () => {
    const truth = { a: 2, b: 0.4, c: 1.5 };
    const noise = 0.5;
    const rand = rng(42);
    const m = new OnlineCostModel();
    for (let k = 0; k < 6_000; k++) {
      const f = { spreadBps: 1 + 20 * rand(), volBps: 5 + 50 * rand(), participation: 0.3 * rand() };
      const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      const y = truth.a + truth.b * f.spreadBps + truth.c * f.volBps * Math.sqrt(f.participation) + noise * gauss;
      m.update('X', f, y);
    }
    const got = m.coefficients('X');
    expect(Math.abs(got.a - truth.a)).toBeLessThan(0.3);
    expect(Math.abs(got.b - truth.b)).toBeLessThan(0.03);
    expect(Math.abs(got.c - truth.c)).toBeLessThan(0.05);
    const [s] = m.summary();
    expect(s).toMatchObject({ symbol: 'X', fills: 6_000 });
    expect(s.rmseBps).toBeGreaterThan(noise * 0.9);
    expect(s.rmseBps).toBeLessThan(noise * 1.5);
  });

  it('observes fills as shortfall vs arrival price and reports the mean per symbol', () => {
    const m = new OnlineCostModel();
    const f = { spreadBps: 2, volBps: 10, participation: 0.01 };
    expect(m.observe({ symbol: 'X', side: 'buy', price: 100.1, arrivalPrice: 100 }, f)).toBeCloseTo(10, 8);
    expect(m.observe({ symbol: 'X', side: 'sell', price: 99.95, arrivalPrice: 100 }, f)).toBeCloseTo(5, 8);
    expect(m.observe({ symbol: 'Y', side: 'buy', price: 50, arrivalPrice: 50 }, f)).toBe(0);
    const byS = Object.fromEntries(m.summary().map((s) => [s.symbol, s]));
    expect(byS.X.fills).toBe(2);
    expect(byS.X.meanIsBps).toBeCloseTo(7.5, 8);
    expect(byS.Y.fills).toBe(1);
  });

  it('stays bounded when a feature is never excited (no covariance wind-up on bar data)', () => {
    const m = new OnlineCostModel();
    const rand = rng(7);
    for (let k = 0; k < 50_000; k++) m.update('X', { spreadBps: 0, volBps: 20, participation: rand() * 0.1 }, 3);
    const { b } = m.coefficients('X');
    expect(Number.isFinite(b)).toBe(true);
    expect(b).toBeCloseTo(DEFAULTS.costModel.b, 6);
    const snap = m.snapshot();
    for (const v of snap.symbols.X.p) expect(Number.isFinite(v)).toBe(true);
    expect(m.estimateBps('X', { spreadBps: 0, volBps: 20, participation: 0.05 })).toBeCloseTo(3, 0);
  });

  it('snapshot/restore reproduces every estimate; malformed state is refused', () => {
    const m = new OnlineCostModel({ forgetting: 0.99 });
    const rand = rng(3);
    for (let k = 0; k < 100; k++) m.update('X', { spreadBps: 10 * rand(), volBps: 30, participation: rand() }, 5 * rand());
    const copy = new OnlineCostModel();
    copy.restore(JSON.parse(JSON.stringify(m.snapshot())));
    const f = { spreadBps: 3, volBps: 25, participation: 0.2 };
    expect(copy.estimateBps('X', f)).toBe(m.estimateBps('X', f));
    expect(copy.summary()).toEqual(m.summary());
    copy.update('X', f, 4);
    m.update('X', f, 4);
    expect(copy.coefficients('X')).toEqual(m.coefficients('X'));
    expect(() => copy.restore({ version: 2 })).toThrow(/OnlineCostModel.restore/);
  });
});
