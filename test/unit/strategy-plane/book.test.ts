import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roundToStep } from '../../../shared/domain/numbers.ts';
import { snapToLot } from '../../../shared/strategy-plane/portfolio/book.ts';

describe('snapToLot', () => {
  it('gives the same canonical value as roundToStep for decimal and other lots', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.constantFrom(1, 0.5, 0.1, 0.01, 0.001, 0.00001, 0.25, 2, 5, 0.3), fc.double({ min: -0.4, max: 0.4, noNaN: true }), (units, lot, jitter) => {
        const value = (units + jitter) * lot;
        return snapToLot(value, lot) === roundToStep(value, lot);
      }),
      { numRuns: 2000 },
    );
  });
  it('removes accumulated float noise: ten fills of 0.1 make exactly 1', () => {
    let position = 0;
    for (let i = 0; i < 10; i++) position = snapToLot(position + 0.1, 0.001);
    expect(position).toBe(1);
  });
});
