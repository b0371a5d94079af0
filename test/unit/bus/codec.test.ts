import { describe, expect, it } from 'vitest';
import { decodeEnvelopes, packEnvelopes, packable } from '../../../shared/bus/codec.ts';
import { makeEnvelope, type Envelope } from '../../../shared/domain/envelope.ts';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);
const bar = (i: number) => ({ kind: 'bar', symbol: 'BTC-USD', ts: 1_700_000_000_000_000 + i, open: 100 + i, high: 101, low: 99, close: 100.5, volume: 3 });

describe('packed envelopes', () => {
  it('round-trip, fields shared with the element before written once, whatever changes between elements', () => {
    const now = new Date('2026-11-21T10:00:00.000Z');
    const later = new Date('2026-11-21T10:00:00.001Z');
    const envs: Envelope[] = [
      makeEnvelope('market.bar.v1', bar(0), { producer: 'data-worker', now }),
      makeEnvelope('market.bar.v1', bar(1), { producer: 'data-worker', now }),
      makeEnvelope('market.ofi.v1', { ofi: -2.5, note: 'quote "é" \n' }, { producer: 'data-worker', now }),
      makeEnvelope('market.bar.v1', bar(2), { producer: 'data-worker', now: later }),
      makeEnvelope('market.bar.v1', null, { producer: 'replay', now: later }),
    ];
    const packed = packEnvelopes(envs.map(packable));
    expect(decodeEnvelopes(packed, 'md.events.BTC-USD#1').map((e) => e.envelope)).toEqual(envs);
    // Written only where they differ from the element before: the first element, the producer change, the time change, the schema changes.
    expect(text(packed).match(/"producer_service"/g)).toHaveLength(2);
    expect(text(packed).match(/"timestamp"/g)).toHaveLength(2);
    expect(text(packed).match(/"schema"/g)).toHaveLength(3);
    expect(packed.length).toBeLessThan(JSON.stringify(envs).length * 0.85);
  });

  it('writes a single envelope as the plain envelope JSON', () => {
    const env = makeEnvelope('orders.intent.v1', { qty: 1 }, { producer: 'strategy-worker' });
    expect(text(packEnvelopes([packable(env)]))).toBe(JSON.stringify(env));
  });

  it('still reads packs written as JSON arrays of whole envelopes (recordings from before)', () => {
    const envs = [makeEnvelope('market.bar.v1', bar(0), { producer: 'p' }), makeEnvelope('market.bar.v1', bar(1), { producer: 'p' })];
    expect(decodeEnvelopes(bytes(JSON.stringify(envs)), 'x').map((e) => e.envelope)).toEqual(envs);
  });

  it('rejects a bad element alone, by its index, and never lends a shared field to a field that is present but null', () => {
    const good = makeEnvelope('market.bar.v1', bar(0), { producer: 'p', id: 'good' });
    const raw = `{"pack":[${JSON.stringify(good)},{"id":"inherits","trace_id":"t","data":2},{"id":"nulled","timestamp":null,"trace_id":"t","data":1},7]}`;
    const out = decodeEnvelopes(bytes(raw), 'md.events.X#9');
    expect(out.map((e) => e.envelope?.id ?? e.error?.where)).toEqual(['good', 'inherits', 'md.events.X#9[2]', 'md.events.X#9[3]']);
    expect(out[1].envelope).toMatchObject({ timestamp: good.timestamp, producer_service: 'p', schema: 'market.bar.v1', data: 2 });
    expect(out[2].error?.message).toMatch(/timestamp/);
    expect(out[3].error && out[3].text).toBe('7');
  });
});
