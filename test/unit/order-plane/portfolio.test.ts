import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fill } from '../../../shared/domain/index.ts';
import { PortfolioSnapshotSchema } from '../../../shared/domain/index.ts';
import { US_PER_DAY } from '../../../shared/domain/time.ts';
import { Portfolio } from '../../../shared/order-plane/index.ts';
import { ACCOUNT, T0 } from './fixtures.ts';

let n = 0;
const fill = (symbol: string, side: 'buy' | 'sell', qty: number, price: number, fee = 0, ts = T0): Fill => ({
  execId: `e${n++}`,
  clientOrderId: 'ap-portfolio-test',
  accountId: ACCOUNT,
  strategyId: 's1',
  symbol,
  side,
  qty,
  price,
  fee,
  liquidity: 'taker',
  ts,
  arrivalPrice: price,
});

describe('Portfolio accounting by hand', () => {
  it('buy 2 @100, sell 1 @110, sell 3 @105 (flip short), buy 2 @100 (close), with fees', () => {
    const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 10_000 });
    pf.applyFill(fill('X', 'buy', 2, 100, 1));
    expect(pf.position('X')).toBe(2);
    expect(pf.cash()).toBe(10_000 - 200 - 1);
    expect(pf.equity()).toBe(9_999);

    pf.applyFill(fill('X', 'sell', 1, 110, 0.5));
    let p = pf.snapshot(T0).positions[0];
    expect(p).toMatchObject({ qty: 1, avgPrice: 100, realizedPnl: 10, fees: 1.5, lastPrice: 110, unrealizedPnl: 10 });
    expect(pf.cash()).toBe(10_000 - 201 + 110 - 0.5);

    // Sell 3 @105: closes 1 long (+5 realised) and opens 2 short at 105.
    pf.applyFill(fill('X', 'sell', 3, 105, 0.25));
    p = pf.snapshot(T0).positions[0];
    expect(p).toMatchObject({ qty: -2, avgPrice: 105, realizedPnl: 15, fees: 1.75 });
    pf.mark('X', 103);
    expect(pf.unrealizedPnl()).toBe(4);
    expect(pf.grossExposure()).toBe(206);
    expect(pf.netExposure()).toBe(-206);
    expect(pf.equity()).toBe(pf.cash() - 206);

    pf.applyFill(fill('X', 'buy', 2, 100, 0.25));
    p = pf.snapshot(T0).positions[0];
    expect(p).toMatchObject({ qty: 0, avgPrice: 0, realizedPnl: 25, fees: 2, unrealizedPnl: 0 });
    expect(pf.cash()).toBe(10_000 + 25 - 2);
    expect(pf.equity()).toBe(10_023);
    expect(pf.grossExposure()).toBe(0);
  });

  it('applies the contract multiplier to cash and PnL', () => {
    const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 100_000, multiplier: () => 50 });
    pf.applyFill(fill('ES', 'buy', 2, 4000));
    pf.mark('ES', 4010);
    expect(pf.cash()).toBe(100_000 - 2 * 4000 * 50);
    expect(pf.unrealizedPnl()).toBe(2 * 10 * 50);
    expect(pf.equity()).toBe(100_000 + 1_000);
  });

  it('tracks daily PnL from the UTC day start', () => {
    const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 1_000 });
    pf.rollDay(T0);
    pf.applyFill(fill('X', 'buy', 1, 100));
    pf.mark('X', 90);
    expect(pf.dailyPnl()).toBe(-10);
    expect(pf.rollDay(T0 + US_PER_DAY)).toBe(true);
    expect(pf.dailyPnl()).toBe(0);
    pf.mark('X', 95);
    expect(pf.dailyPnl()).toBe(5);
    expect(pf.rollDay(T0 + US_PER_DAY + 1)).toBe(false);
  });

  it('snapshots validate against the domain schema and round-trip through state', () => {
    const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 1_000 });
    pf.applyFill(fill('X', 'buy', 1.5, 100, 0.1));
    pf.mark('Y', 7);
    pf.mark('X', 101);
    const snap = pf.snapshot(T0, 'REDUCING');
    expect(PortfolioSnapshotSchema.parse(snap)).toEqual(snap);
    expect(snap.positions.map((p) => p.symbol)).toEqual(['X']);
    const back = Portfolio.fromState(JSON.parse(JSON.stringify(pf.state())));
    expect(back.snapshot(T0, 'REDUCING')).toEqual(snap);
  });

  it('rejects invalid fills and marks', () => {
    const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 1_000 });
    expect(() => pf.applyFill(fill('X', 'buy', Number.NaN, 100))).toThrow(/qty/);
    expect(() => pf.applyFill(fill('X', 'buy', 1, -1))).toThrow(/price/);
    expect(() => pf.mark('X', 0)).toThrow(/mark price/);
  });
});

describe('Portfolio property: accounting invariants', () => {
  const step = fc.oneof(
    fc.record({
      kind: fc.constant('fill' as const),
      symbol: fc.constantFrom('A', 'B', 'C'),
      side: fc.constantFrom('buy' as const, 'sell' as const),
      qty: fc.integer({ min: 1, max: 5_000 }).map((q) => q / 100),
      price: fc.integer({ min: 100, max: 100_000 }).map((c) => c / 100),
      fee: fc.integer({ min: 0, max: 500 }).map((c) => c / 100),
    }),
    fc.record({ kind: fc.constant('mark' as const), symbol: fc.constantFrom('A', 'B', 'C'), price: fc.integer({ min: 100, max: 100_000 }).map((c) => c / 100) }),
  );

  it('equity = cash + marked value; positions = signed fills; realised + unrealised - fees = equity - initial cash', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
        const mult = (s: string) => (s === 'C' ? 10 : 1);
        const pf = new Portfolio({ accountId: ACCOUNT, initialCash: 50_000, multiplier: mult });
        const signed = new Map<string, number>();
        const marks = new Map<string, number>();
        for (const s of steps) {
          if (s.kind === 'fill') {
            pf.applyFill(fill(s.symbol, s.side, s.qty, s.price, s.fee));
            signed.set(s.symbol, (signed.get(s.symbol) ?? 0) + (s.side === 'buy' ? s.qty : -s.qty));
          } else pf.mark(s.symbol, s.price);
          marks.set(s.symbol, s.price);
        }
        const snap = pf.snapshot(T0);
        const scale = 1 + Math.abs(pf.cash()) + pf.grossExposure();
        let marked = 0;
        for (const [sym, q] of signed) {
          expect(pf.position(sym)).toBeCloseTo(q, 6);
          marked += pf.position(sym) * (marks.get(sym) ?? 0) * mult(sym);
        }
        expect(Math.abs(pf.cash() + marked - pf.equity()) / scale).toBeLessThan(1e-9);
        expect(Math.abs(snap.realizedPnl + snap.unrealizedPnl - snap.fees - (snap.equity - 50_000)) / scale).toBeLessThan(1e-9);
        expect(Math.abs(snap.grossExposure - snap.positions.reduce((a, p) => a + Math.abs(p.qty * p.lastPrice * mult(p.symbol)), 0)) / scale).toBeLessThan(1e-9);
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
