import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientOrderId, hash128Hex } from '../../../shared/domain/ids.ts';
import { onGrid, priceProblem, quantityProblem, roundDownToStep, roundToStep } from '../../../shared/domain/numbers.ts';

describe('clientOrderId', () => {
  const decision = { accountId: 'paper-1', strategyId: 'sma-cross', symbol: 'BTC', ts: 1_640_991_660_000_000, side: 'buy', qty: 1 };

  it('is the same for the same decision and differs when any field differs', () => {
    const id = clientOrderId(decision);
    expect(clientOrderId({ ...decision })).toBe(id);
    expect(id).toMatch(/^ap-[0-9a-f]{29}$/);
    const variants = [
      { ...decision, accountId: 'paper-2' },
      { ...decision, strategyId: 'other' },
      { ...decision, symbol: 'ETH' },
      { ...decision, ts: decision.ts + 1 },
      { ...decision, side: 'sell' },
      { ...decision, qty: 2 },
      { ...decision, seq: 1 },
    ];
    for (const v of variants) expect(clientOrderId(v)).not.toBe(id);
  });

  it('is the hash of its key text whichever decision came before (the key prefix is hashed once per account, strategy and symbol)', () => {
    const keyed = (d: typeof decision & { seq?: number }) => 'ap-' + hash128Hex(`${d.accountId}|${d.strategyId}|${d.symbol}|${d.ts}|${d.side}|${d.qty}|${d.seq ?? 0}`).slice(0, 29);
    const decisions = [
      decision,
      { ...decision, ts: decision.ts + 60_000_000, side: 'sell', seq: 3 },
      { ...decision, symbol: 'ETH', qty: 0.25 },
      { ...decision, accountId: 'a'.repeat(300) },
      { ...decision, strategyId: 'ofi', ts: decision.ts + 0.5 },
      decision,
    ];
    for (const d of decisions) expect(clientOrderId(d)).toBe(keyed(d));
    // Interleaved with hash128Hex, which shares the key buffer and the lanes.
    for (const d of decisions) {
      const id = clientOrderId(d);
      hash128Hex('unrelated text');
      expect(clientOrderId(d)).toBe(id);
    }
  });

  it('has no collisions over many distinct decisions', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(clientOrderId({ ...decision, ts: decision.ts + i * 60_000_000 }));
    expect(seen.size).toBe(200_000);
  });

  it('spreads single-bit input changes over the output (avalanche)', () => {
    const base = hash128Hex('abcdefgh');
    const flipped = hash128Hex('abcdefgi');
    let differing = 0;
    for (let i = 0; i < 32; i++) differing += (parseInt(base[i], 16) ^ parseInt(flipped[i], 16)).toString(2).replace(/0/g, '').length;
    expect(differing).toBeGreaterThan(40);
    expect(differing).toBeLessThan(88);
  });
});

describe('price and quantity rules', () => {
  it('names what is wrong', () => {
    expect(priceProblem(Number.NaN)).toMatch(/not finite/);
    expect(priceProblem(Number.POSITIVE_INFINITY)).toMatch(/not finite/);
    expect(priceProblem(-1)).toMatch(/> 0/);
    expect(priceProblem(100.005, 0.01)).toMatch(/tick size 0.01/);
    expect(priceProblem(0.1 + 0.2, 0.1)).toBeUndefined();
    expect(quantityProblem(0.0015, 0.001)).toMatch(/lot size 0.001/);
    expect(quantityProblem(0)).toMatch(/> 0/);
    expect(quantityProblem(3, 1)).toBeUndefined();
  });

  it('rounds onto the grid exactly in decimal', () => {
    expect(roundDownToStep(1.23456, 0.001)).toBe(1.234);
    expect(roundDownToStep(0.3, 0.1)).toBe(0.3);
    expect(roundToStep(46000.126, 0.01)).toBe(46000.13);
    expect(roundToStep(7, 0.5)).toBe(7);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom(1, 0.5, 0.1, 0.01, 0.001, 0.25, 1e-8), (v, step) => {
        const down = roundDownToStep(v, step);
        expect(down).toBeLessThanOrEqual(v + step * 1e-9);
        expect(v - down).toBeLessThan(step * (1 + 1e-9));
        expect(onGrid(down, step)).toBe(true);
        expect(onGrid(roundToStep(v, step), step)).toBe(true);
      }),
    );
  });
});
