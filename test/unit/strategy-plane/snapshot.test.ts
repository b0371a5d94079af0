import { describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../../shared/domain/index.ts';
import { createStrategy, StrategyPlane, type SizingConfig } from '../../../shared/strategy-plane/index.ts';
import type { ParamValue } from '../../../shared/strategy-plane/index.ts';
import { bar, instrument, ofi, RecordingSink, report } from './fixtures.ts';

/** Deterministic random walk with regime changes so every strategy trades several times. */
function walk(n: number, seed: number): number[] {
  let s = seed;
  const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const out: number[] = [];
  let price = 100;
  for (let i = 0; i < n; i++) {
    price *= Math.exp(0.01 * rand() + 0.004 * Math.sin(i / 25));
    out.push(Number(price.toFixed(2)));
  }
  return out;
}

const CASES: [string, Record<string, ParamValue>, (i: number, x: number) => MarketEvent][] = [
  ['sma-cross', { fast: 5, slow: 12, longOnly: false }, (i, x) => bar(i, x)],
  ['mean-reversion', { window: 15, entryZ: 1.5, exitZ: 0.3 }, (i, x) => bar(i, x)],
  ['momentum', { lookback: 10, threshold: 0.01 }, (i, x) => bar(i, x)],
  ['ofi', { window: 8, threshold: 1, horizon: 3 }, (i, x) => ofi(i, Math.log(x / 100) * 50 + Math.sin(i * 1.7))],
];

describe('strategy snapshot/restore', () => {
  for (const [name, params, event] of CASES) {
    it(`${name}: a restored strategy emits exactly what the uninterrupted one does`, () => {
      const prices = walk(400, 11);
      const events = prices.map((x, i) => event(i + 1, x));
      const record = (out: string[]) => ({ position: () => 0, instrument: (s: string) => instrument(s), signal: (_s: string, ts: number, k: number) => out.push(`${ts}:${k}`) });

      const whole: string[] = [];
      const uninterrupted = createStrategy(name, params);
      const dispatch = (s: typeof uninterrupted, e: MarketEvent, ctx: ReturnType<typeof record>) => (e.kind === 'ofi' ? s.onOfi?.(e, ctx) : e.kind === 'bar' ? s.onBar?.(e, ctx) : undefined);
      events.forEach((e) => dispatch(uninterrupted, e, record(whole)));

      const first = createStrategy(name, params);
      const firstOut: string[] = [];
      events.slice(0, 200).forEach((e) => dispatch(first, e, record(firstOut)));
      const saved = JSON.parse(JSON.stringify(first.snapshot?.()));
      const resumed = createStrategy(name, params);
      resumed.restore?.(saved);
      const secondOut: string[] = [];
      events.slice(200).forEach((e) => dispatch(resumed, e, record(secondOut)));

      expect(whole.length).toBeGreaterThan(4);
      expect(secondOut.length).toBeGreaterThan(0);
      expect([...firstOut, ...secondOut]).toEqual(whole);
    });
  }

  it('refuses a snapshot taken with different parameters', () => {
    const a = createStrategy('sma-cross', { fast: 2, slow: 3 });
    const b = createStrategy('sma-cross', { fast: 2, slow: 4 });
    expect(() => b.restore?.(a.snapshot?.())).toThrow(/snapshot has fast=2 slow=3/);
  });
});

describe('StrategyPlane snapshot/restore', () => {
  function build(sizing: SizingConfig) {
    const sink = new RecordingSink();
    const p = new StrategyPlane(
      { accountId: 'acct', strategies: [createStrategy('sma-cross', { fast: 4, slow: 9, longOnly: false })], sizing, instrument: (s) => instrument(s, 0.001), costModel: { estimateBps: () => 1 } },
      sink,
    );
    return { p, sink };
  }

  /** Feeds bars; fills every other intent and leaves the rest pending across the snapshot. */
  function drive(p: StrategyPlane, sink: RecordingSink, prices: number[], from: number): void {
    prices.forEach((x, k) => {
      const before = sink.intents.length;
      p.onMarket(bar(from + k, x));
      for (const intent of sink.intents.slice(before)) {
        if ((from + k) % 2 === 0) p.onExecution(report(intent, 'filled', intent.qty, intent.qty));
      }
    });
  }

  it('a restarted plane resumes positions, pending orders and warm indicators', () => {
    const sizing: SizingConfig = { kind: 'vol-target', annualVol: 0.3, equity: 100_000, window: 10 };
    const prices = walk(300, 5);
    const whole = build(sizing);
    drive(whole.p, whole.sink, prices, 1);

    const first = build(sizing);
    drive(first.p, first.sink, prices.slice(0, 150), 1);
    const snap = JSON.parse(JSON.stringify(first.p.snapshot()));
    const resumed = build(sizing);
    resumed.p.restore(snap);
    expect(resumed.p.exposure('sma-cross', 'BTCUSDT')).toBe(first.p.exposure('sma-cross', 'BTCUSDT'));
    expect(resumed.p.position('sma-cross', 'BTCUSDT')).toBe(first.p.position('sma-cross', 'BTCUSDT'));
    drive(resumed.p, resumed.sink, prices.slice(150), 151);

    const ids = (s: RecordingSink) => s.intents.map((i) => `${i.clientOrderId}:${i.side}:${i.qty}`);
    expect(resumed.sink.intents.length).toBeGreaterThan(0);
    expect([...ids(first.sink), ...ids(resumed.sink)]).toEqual(ids(whole.sink));
    expect(resumed.p.position('sma-cross', 'BTCUSDT')).toBe(whole.p.position('sma-cross', 'BTCUSDT'));
  });

  it('a report for an order sent before the restart is booked against the restored pending', () => {
    const { p, sink } = build({ kind: 'fixed-qty', qty: 1 });
    // Bars rise after a dip: an up-cross sends a buy that stays pending.
    [10, 9, 8, 7, 6, 5, 4, 3, 2, 3, 5, 8, 12].forEach((x, i) => p.onMarket(bar(i + 1, x)));
    const pending = sink.intents.at(-1);
    expect(pending?.side).toBe('buy');
    const resumed = build({ kind: 'fixed-qty', qty: 1 });
    resumed.p.restore(JSON.parse(JSON.stringify(p.snapshot())));
    expect(resumed.p.exposure('sma-cross', 'BTCUSDT')).toBe(1);
    resumed.p.onExecution(report(pending!, 'filled', 1, 1));
    expect([resumed.p.position('sma-cross', 'BTCUSDT'), resumed.p.exposure('sma-cross', 'BTCUSDT')]).toEqual([1, 1]);
    expect(resumed.p.counts().untrackedReports).toBe(0);
  });
});
