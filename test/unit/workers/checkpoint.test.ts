/** Serialising a checkpoint's captured parts: the same text as JSON.stringify, with turns of the event loop between time slices. */
import { describe, expect, it } from 'vitest';
import { SERIALISE_SLICE_MS, serialiseParts } from '../../../shared/workers/checkpoint.ts';

describe('serialiseParts', () => {
  it('gives each value its JSON text and lets the event loop run between slices', async () => {
    const orders = Array.from({ length: 40 }, (_, i) => [`id-${i}`, { rank: i, prices: [i, i + 1 / 7] }] as const);
    const ring = [['0:AAA', { from: 0, f64: 'AAAAAAAA8D8=' }]] as const;
    // A clock that moves one slice on at every reading: every value ends a slice. (Real time would
    // make the count of slices depend on how busy the machine is.)
    let readings = 0;
    const clock = () => readings++ * SERIALISE_SLICE_MS;

    let turns = 0;
    let done = false;
    const counter = () => {
      turns++;
      if (!done) setImmediate(counter);
    };
    setImmediate(counter);
    const out = await serialiseParts({ parts: { reset: false, set: orders, del: ['gone'] }, ring: { reset: true, set: ring, del: [] } }, clock);
    done = true;

    expect(out.parts).toEqual({ reset: false, set: orders.map(([k, v]) => [k, JSON.stringify(v)]), del: ['gone'] });
    expect(out.ring).toEqual({ reset: true, set: [['0:AAA', '{"from":0,"f64":"AAAAAAAA8D8="}']], del: [] });
    // Other work (the hot path's messages) ran between the slices: a turn of the event loop after every value.
    expect(turns).toBeGreaterThanOrEqual(orders.length + ring.length - 1);
  });

  it('does not yield while its slice has time left', async () => {
    let turns = 0;
    setImmediate(() => turns++);
    const values = Array.from({ length: 50 }, (_, i) => [`id-${i}`, { i }] as const);
    const out = await serialiseParts({ parts: { reset: false, set: values, del: [] } }, () => 0);
    expect(out.parts.set).toHaveLength(50);
    expect(turns).toBe(0);
  });
});
