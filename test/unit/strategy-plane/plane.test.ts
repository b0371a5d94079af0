import { describe, expect, it } from 'vitest';
import { clientOrderId } from '../../../shared/domain/ids.ts';
import type { Bar } from '../../../shared/domain/index.ts';
import type { CostEstimator, Strategy, StrategyContext } from '../../../shared/ports/planes.ts';
import { createStrategy, StrategyPlane, type SizingConfig } from '../../../shared/strategy-plane/index.ts';
import type { BookSnapshot } from '../../../shared/strategy-plane/portfolio/book.ts';
import { bar, instrument, RecordingSink, report } from './fixtures.ts';

/** Emits a scripted strength at given bar indices (bar i has ts T0 + i minutes). */
class Scripted implements Strategy {
  readonly fills: number[] = [];
  constructor(readonly id: string, private readonly script: Map<number, number>) {}
  private index = 0;
  onBar(b: Bar, ctx: StrategyContext): void {
    this.index++;
    const s = this.script.get(this.index);
    if (s !== undefined) ctx.signal(b.symbol, b.ts, s, b.close, 'scripted');
  }
  onFill(fill: { qty: number }): void {
    this.fills.push(fill.qty);
  }
}

function plane(strategies: Strategy[], sizing: SizingConfig = { kind: 'fixed-qty', qty: 1 }, extra: { lot?: number; costModel?: CostEstimator; minQty?: number } = {}) {
  const sink = new RecordingSink();
  const p = new StrategyPlane(
    {
      accountId: 'acct',
      strategies,
      sizing,
      instrument: (s) => instrument(s, extra.lot ?? 0.001, extra.minQty === undefined ? {} : { minQty: extra.minQty }),
      costModel: extra.costModel,
    },
    sink,
  );
  return { p, sink };
}

const CLOSES = [10, 11, 12, 11, 10, 9, 10, 11, 12, 13, 12, 10];

describe('StrategyPlane with sma-cross and fixed-qty', () => {
  it('turns crossings into deltas: nothing to sell at bar 5, buy at 8, sell the filled lot at 12', () => {
    const { p, sink } = plane([createStrategy('sma-cross', { fast: 2, slow: 3 })], { kind: 'fixed-qty', qty: 2 });
    CLOSES.forEach((c, i) => {
      p.onMarket(bar(i + 1, c));
      const last = sink.intents.at(-1);
      // Fill every intent as soon as it appears.
      if (last && p.exposure('sma-cross', 'BTCUSDT') !== p.position('sma-cross', 'BTCUSDT')) p.onExecution(report(last, 'filled', last.qty, last.qty));
    });
    expect(sink.signals.map((s) => s.strength)).toEqual([0, 1, 0]);
    expect(sink.targets.map((t) => t.targetQty)).toEqual([0, 2, 0]);
    expect(sink.intents.map((i) => [i.ts, i.side, i.qty, i.reduceOnly, i.decisionPrice])).toEqual([
      [bar(8, 11).ts, 'buy', 2, false, 11],
      [bar(12, 10).ts, 'sell', 2, true, 10],
    ]);
    expect(p.position('sma-cross', 'BTCUSDT')).toBe(0);
    expect(p.counts().skipped.zeroDelta).toBe(1);
  });
});

describe('delta to target with pending orders', () => {
  it('sends no second intent while one is pending, and a rejection frees it', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, 1], [4, 1]]));
    const { p, sink } = plane([s]);
    p.onMarket(bar(1, 100));
    p.onMarket(bar(2, 101));
    expect(sink.intents).toHaveLength(1);
    expect(p.exposure('s', 'BTCUSDT')).toBe(1);
    p.onExecution(report(sink.intents[0], 'accepted', 0));
    p.onExecution(report(sink.intents[0], 'rejected', 0));
    expect(p.exposure('s', 'BTCUSDT')).toBe(0);
    p.onMarket(bar(3, 102));
    p.onMarket(bar(4, 103));
    expect(sink.intents).toHaveLength(2);
    expect(sink.intents[1]).toMatchObject({ side: 'buy', qty: 1, ts: bar(4, 0).ts });
    expect(sink.intents[1].clientOrderId).not.toBe(sink.intents[0].clientOrderId);
  });

  it('books partial fills, releases the unfilled rest on cancel, and ignores redelivered reports', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, 0]]));
    const { p, sink } = plane([s], { kind: 'fixed-qty', qty: 3 }, { lot: 1 });
    p.onMarket(bar(1, 100));
    const buy = sink.intents[0];
    p.onExecution(report(buy, 'partially_filled', 1, 1));
    p.onExecution(report(buy, 'partially_filled', 1, 1)); // redelivered
    expect([p.position('s', 'BTCUSDT'), p.exposure('s', 'BTCUSDT')]).toEqual([1, 3]);
    p.onExecution(report(buy, 'cancelled', 1));
    p.onExecution(report(buy, 'cancelled', 1)); // redelivered after close
    expect([p.position('s', 'BTCUSDT'), p.exposure('s', 'BTCUSDT')]).toEqual([1, 1]);
    expect(s.fills).toEqual([1]);
    expect(p.counts().duplicateReports).toBe(1);
    p.onMarket(bar(2, 100));
    expect(sink.intents[1]).toMatchObject({ side: 'sell', qty: 1, reduceOnly: true });
  });

  it('books reports of an order sent before the last one to that order (not the last sent)', () => {
    const a = new Scripted('a', new Map([[1, 1]]));
    const b = new Scripted('b', new Map([[1, -1]]));
    const { p, sink } = plane([a, b], { kind: 'fixed-qty', qty: 2 }, { lot: 1 });
    p.onMarket(bar(1, 100));
    const [buy, sell] = sink.intents;
    p.onExecution(report(buy, 'partially_filled', 1, 1));
    p.onExecution(report(sell, 'filled', 2, 2));
    p.onExecution(report(buy, 'filled', 2, 1));
    p.onExecution(report(sell, 'filled', 2, 2)); // redelivered after close
    expect([p.position('a', 'BTCUSDT'), p.exposure('a', 'BTCUSDT')]).toEqual([2, 2]);
    expect([p.position('b', 'BTCUSDT'), p.exposure('b', 'BTCUSDT')]).toEqual([-2, -2]);
    expect(p.counts().duplicateReports).toBe(1);
  });

  it('keeps open and recently closed orders apart through a snapshot, and forgets closes beyond its window', () => {
    const script = new Map<number, number>();
    for (let i = 1; i <= 4101; i++) script.set(i, i % 2 === 1 ? 1 : 0);
    const { p, sink } = plane([new Scripted('s', script)], { kind: 'fixed-qty', qty: 1 }, { lot: 1 });
    for (let i = 1; i <= 4100; i++) {
      p.onMarket(bar(i, 100));
      p.onExecution(report(sink.intents[i - 1], 'filled', 1, 1));
    }
    p.onMarket(bar(4101, 100));
    const pending = sink.intents[4100];
    const snap = p.snapshot();
    const book = snap.book as BookSnapshot;
    expect(book.open.map((o) => o.clientOrderId)).toEqual([pending.clientOrderId]);
    expect(book.closed).toHaveLength(4096);
    expect(book.closed[4095]).toBe(sink.intents[4099].clientOrderId);

    const restored = plane([new Scripted('s', new Map())], { kind: 'fixed-qty', qty: 1 }, { lot: 1 }).p;
    restored.restore(snap);
    expect(restored.snapshot().book).toEqual(book);
    restored.onExecution(report(sink.intents[4099], 'filled', 1, 1)); // remembered: a duplicate
    restored.onExecution(report(sink.intents[0], 'filled', 1, 1)); // forgotten: booked as untracked
    restored.onExecution(report(pending, 'filled', 1, 1));
    expect(restored.counts().duplicateReports).toBe(1);
    expect(restored.position('s', 'BTCUSDT')).toBe(book.holdings[0].position + 2);
    expect((restored.snapshot().book as BookSnapshot).open).toEqual([]);
  });

  it('flips through zero in one order that is not reduce-only', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, -1]]));
    const { p, sink } = plane([s]);
    p.onMarket(bar(1, 100));
    p.onExecution(report(sink.intents[0], 'filled', 1, 1));
    p.onMarket(bar(2, 100));
    expect(sink.intents[1]).toMatchObject({ side: 'sell', qty: 2, reduceOnly: false });
  });

  it('marks reduce-only only if it still reduces after open same-side orders fill', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, 0.2], [3, -0.3]]));
    const { p, sink } = plane([s]);
    p.onMarket(bar(1, 100));
    p.onExecution(report(sink.intents[0], 'filled', 1, 1));
    p.onMarket(bar(2, 100)); // sell 0.8, left open
    p.onMarket(bar(3, 100)); // sell 0.5 more: 1 - 0.8 - 0.5 < 0 crosses zero
    expect(sink.intents.slice(1).map((i) => [i.side, i.qty, i.reduceOnly])).toEqual([
      ['sell', 0.8, true],
      ['sell', 0.5, false],
    ]);
  });

  it('ignores reports of other strategies or accounts', () => {
    const s = new Scripted('s', new Map([[1, 1]]));
    const { p, sink } = plane([s]);
    p.onMarket(bar(1, 100));
    p.onExecution(report({ ...sink.intents[0], strategyId: 'other' }, 'filled', 1, 1));
    p.onExecution(report({ ...sink.intents[0], accountId: 'other' }, 'filled', 1, 1));
    expect(p.position('s', 'BTCUSDT')).toBe(0);
    expect(p.counts().foreignReports).toBe(2);
  });
});

describe('lot rounding and deterministic ids', () => {
  it('rounds fixed-notional targets down to the lot and skips deltas that round to zero', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, 1]]));
    const { p, sink } = plane([s], { kind: 'fixed-notional', notional: 1000 }, { lot: 0.01 });
    p.onMarket(bar(1, 300)); // 3.333.. -> 3.33
    expect(sink.intents[0].qty).toBe(3.33);
    p.onExecution(report(sink.intents[0], 'filled', 3.33, 3.33));
    p.onMarket(bar(2, 299.5)); // 3.3389 -> 3.33: nothing to do
    expect(sink.intents).toHaveLength(1);
    expect(p.counts().skipped.zeroDelta).toBe(1);

    const whole = plane([new Scripted('s', new Map([[1, -1]]))], { kind: 'fixed-notional', notional: 1000 }, { lot: 1 });
    whole.p.onMarket(bar(1, 300));
    expect(whole.sink.intents[0]).toMatchObject({ side: 'sell', qty: 3 });
  });

  it('skips orders below the instrument minQty', () => {
    const { p, sink } = plane([new Scripted('s', new Map([[1, 1]]))], { kind: 'fixed-qty', qty: 0.5 }, { lot: 0.1, minQty: 1 });
    p.onMarket(bar(1, 100));
    expect(sink.intents).toHaveLength(0);
    expect(p.counts().skipped.belowMinQty).toBe(1);
  });

  it('gives the same decision the same clientOrderId, and two decisions at one instant different ones', () => {
    const run = () => {
      const { p, sink } = plane([createStrategy('sma-cross', { fast: 2, slow: 3, longOnly: false })]);
      CLOSES.forEach((c, i) => p.onMarket(bar(i + 1, c)));
      return sink.intents;
    };
    const a = run();
    const b = run();
    expect(a.length).toBe(3);
    expect(a.map((i) => i.clientOrderId)).toEqual(b.map((i) => i.clientOrderId));
    const first = a[0];
    expect(first.clientOrderId).toBe(clientOrderId({ accountId: 'acct', strategyId: 'sma-cross', symbol: 'BTCUSDT', ts: first.ts, side: 'sell', qty: 1, seq: 0 }));

    const twice = new (class implements Strategy {
      readonly id = 'twice';
      onBar(b: Bar, ctx: StrategyContext) {
        ctx.signal(b.symbol, b.ts, 1, b.close);
        ctx.signal(b.symbol, b.ts, -1, b.close);
      }
    })();
    const { p, sink } = plane([twice]);
    p.onMarket(bar(1, 100));
    expect(sink.intents.map((i) => [i.side, i.qty])).toEqual([
      ['buy', 1],
      ['sell', 2],
    ]);
    expect(new Set(sink.intents.map((i) => i.clientOrderId)).size).toBe(2);
  });
});

describe('cost-aware no-trade band', () => {
  const flatCost = (bps: number): CostEstimator => ({ estimateBps: () => bps });

  it('skips an entry whose expected cost exceeds the edge but always lets an exit through', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, 0.5], [3, 0]]));
    const { p, sink } = plane([s], { kind: 'fixed-qty', qty: 1, edgeBps: 20 }, { costModel: flatCost(15) });
    p.onMarket(bar(1, 100)); // 15 bps <= 20 * 1: trade
    p.onExecution(report(sink.intents[0], 'filled', 1, 1));
    p.onMarket(bar(2, 100)); // reduce to 0.5: risk-reducing, not cost-tested
    p.onExecution(report(sink.intents[1], 'filled', 0.5, 0.5));
    p.onMarket(bar(3, 100)); // exit
    expect(sink.intents.map((i) => [i.side, i.qty])).toEqual([
      ['buy', 1],
      ['sell', 0.5],
      ['sell', 0.5],
    ]);

    const weak = plane([new Scripted('s', new Map([[1, 0.5]]))], { kind: 'fixed-qty', qty: 1, edgeBps: 20 }, { costModel: flatCost(15) });
    weak.p.onMarket(bar(1, 100)); // 15 bps > 20 * 0.5
    expect(weak.sink.intents).toHaveLength(0);
    expect(weak.p.counts().skipped.costExceedsBenefit).toBe(1);
  });

  it('skips trades below the minimum notional unless they close the position', () => {
    const s = new Scripted('s', new Map([[1, 1], [2, 0]]));
    const { p, sink } = plane([s], { kind: 'fixed-qty', qty: 1, minNotional: 500 });
    p.onMarket(bar(1, 100)); // 100 < 500
    expect(sink.intents).toHaveLength(0);
    expect(p.counts().skipped.belowMinNotional).toBe(1);

    const held = plane([new Scripted('s', new Map([[1, 1], [2, 0]]))], { kind: 'fixed-qty', qty: 10, minNotional: 500 });
    held.p.onMarket(bar(1, 100));
    held.p.onExecution(report(held.sink.intents[0], 'filled', 10, 10));
    held.p.onMarket(bar(2, 1)); // closing 10 @ 1 = 10 notional: allowed
    expect(held.sink.intents.map((i) => i.side)).toEqual(['buy', 'sell']);
  });
});

describe('configuration errors', () => {
  it('rejects bad sizing and duplicate strategy ids with clear messages', () => {
    expect(() => plane([new Scripted('s', new Map())], { kind: 'fixed-qty', qty: -1 })).toThrow(/sizing: qty/);
    expect(() => plane([new Scripted('s', new Map()), new Scripted('s', new Map())])).toThrow(/duplicate strategy id 's'/);
  });
  it('fails fast on a signal outside [-1, 1], naming the strategy', () => {
    const { p } = plane([new Scripted('bad', new Map([[1, 2]]))]);
    expect(() => p.onMarket(bar(1, 100))).toThrow(/bad: strength 2 outside \[-1, 1\]/);
  });
});
