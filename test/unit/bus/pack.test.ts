import { describe, expect, it } from 'vitest';
import { packable, packedElements } from '../../../shared/bus/codec.ts';
import { MAX_PACK, TURN, writePacked, type PendingPublish } from '../../../shared/bus/pack.ts';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';

const packed = (subject: string, id: string, cut: number): PendingPublish => ({ subject, msgID: id, element: packable(makeEnvelope('t.v1', {}, { producer: 't', id })), cut });

/** What writePacked wrote: subject, msgID and the ids of the envelopes in each wire message, in write order. */
function written(batch: PendingPublish[]): [string, string, string[]][] {
  const out: [string, string, string[]][] = [];
  writePacked(batch, (subject, data, msgID) => {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
    out.push([subject, msgID, ((packedElements(parsed) ?? [parsed]) as { id: string }[]).map((e) => e.id)]);
  });
  return out;
}

describe('writePacked', () => {
  it('packs a subject between cuts, closing every open pack at a cut', () => {
    expect(written([packed('a', 'a1', 1), packed('b', 'b1', 1), packed('a', 'a2', 1), packed('a', 'a3', 2), packed('b', 'b2', 3)])).toEqual([
      ['a', 'a1+2', ['a1', 'a2']],
      ['b', 'b1', ['b1']],
      ['a', 'a3', ['a3']],
      ['b', 'b2', ['b2']],
    ]);
  });

  it('packs TURN publishes across cuts, to the end of the batch, without moving the cut packs', () => {
    const batch = [packed('i', 'i1', TURN), packed('a', 'a1', 1), packed('i', 'i2', TURN), packed('a', 'a2', 2), packed('i', 'i3', TURN), packed('a', 'a3', 2)];
    expect(written(batch)).toEqual([
      ['a', 'a1', ['a1']],
      ['i', 'i1+3', ['i1', 'i2', 'i3']],
      ['a', 'a2+2', ['a2', 'a3']],
    ]);
  });

  it('writes an open pack before a later unpacked message of its subject, and caps a pack at MAX_PACK', () => {
    const whole: PendingPublish = { subject: 'i', msgID: 'w', data: new TextEncoder().encode('{"id":"w"}'), cut: 5 };
    expect(written([packed('i', 'i1', TURN), packed('i', 'i2', TURN), whole, packed('i', 'i3', TURN)])).toEqual([
      ['i', 'i1+2', ['i1', 'i2']],
      ['i', 'w', ['w']],
      ['i', 'i3', ['i3']],
    ]);
    const many = Array.from({ length: MAX_PACK + 1 }, (_, k) => packed('i', `i${k}`, TURN));
    expect(written(many).map(([, id, ids]) => [id, ids.length])).toEqual([
      [`i0+${MAX_PACK}`, MAX_PACK],
      [`i${MAX_PACK}`, 1],
    ]);
  });
});
