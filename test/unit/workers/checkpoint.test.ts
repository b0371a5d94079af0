/** Serialising a checkpoint's captured parts: the same text as JSON.stringify, with turns of the event loop between time slices. */
import { describe, expect, it } from 'vitest';
import { SERIALISE_SLICE_MS, serialiseParts } from '../../../shared/workers/checkpoint.ts';

describe('serialiseParts', () => {
  it('gives each value its JSON text and lets the event loop run between slices', async () => {
    // Values that take a while to serialise: together many slices' worth.
    const orders = Array.from({ length: 40 }, (_, i) => [`id-${i}`, { rank: i, prices: Array.from({ length: 20_000 }, (_, k) => i + k / 7) }] as const);
    const ring = [['0:AAA', { from: 0, f64: 'AAAAAAAA8D8=' }]] as const;
    const t0 = performance.now();
    for (const [, v] of orders) JSON.stringify(v);
    const serialMs = performance.now() - t0;

    let turns = 0;
    let done = false;
    const counter = () => {
      turns++;
      if (!done) setImmediate(counter);
    };
    setImmediate(counter);
    const out = await serialiseParts({ parts: { reset: false, set: orders, del: ['gone'] }, ring: { reset: true, set: ring, del: [] } });
    done = true;

    expect(out.parts).toEqual({ reset: false, set: orders.map(([k, v]) => [k, JSON.stringify(v)]), del: ['gone'] });
    expect(out.ring).toEqual({ reset: true, set: [['0:AAA', '{"from":0,"f64":"AAAAAAAA8D8="}']], del: [] });
    // Other work (the hot path's messages) ran between the slices: about one turn per slice.
    expect(serialMs).toBeGreaterThan(4 * SERIALISE_SLICE_MS);
    expect(turns).toBeGreaterThanOrEqual(Math.floor(serialMs / SERIALISE_SLICE_MS / 2));
  });
});
