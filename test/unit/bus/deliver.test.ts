import { describe, expect, it } from 'vitest';
import { decodeEnvelopes, packEnvelopes, packable } from '../../../shared/bus/codec.ts';
import { deliverInPlace } from '../../../shared/bus/deliver.ts';
import type { DeadLetter } from '../../../shared/bus/dlq.ts';
import type { BusMessage } from '../../../shared/bus/types.ts';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';
import { TransientError, ValidationError } from '../../../shared/util/errors.ts';

/** A packed wire message of `n` envelopes whose payloads are their indexes, and a counter of its re-reads. */
function wire(n: number) {
  const bytes = packEnvelopes(Array.from({ length: n }, (_, i) => packable(makeEnvelope('test.v1', { i }, { producer: 't', id: `e${i}` }))));
  const rereads = { count: 0 };
  const reread = () => {
    rereads.count++;
    return decodeEnvelopes(bytes, 'subj#1');
  };
  return { msg: { subject: 'subj', seq: 1, redeliveries: 0, elements: decodeEnvelopes(bytes, 'subj#1'), reread }, rereads };
}

const payload = (m: BusMessage) => (m.envelope.data as { i: number }).i;

describe('deliverInPlace with a shared promise (a checkpoint covering many inputs)', () => {
  it('dead-letters every element of a group whose promise fails, each with its own envelope, re-read from the bytes once', async () => {
    const { msg, rereads } = wire(4);
    const letters: DeadLetter[] = [];
    let fail: (err: unknown) => void = () => undefined;
    const shared = new Promise<void>((_, reject) => (fail = reject));
    const done = deliverInPlace(msg, () => shared, async (l) => void letters.push(l));
    expect(rereads.count).toBe(0);
    fail(new ValidationError('BAD', 'state rejected', 'here'));
    await done;
    expect(letters.map((l) => (l.original as { id: string }).id)).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(rereads.count).toBe(1);
  });

  it('retries in place a group member that was naked before the shared promise was returned, and only that one', async () => {
    const { msg, rereads } = wire(3);
    const calls: number[] = [];
    const shared = Promise.resolve();
    await deliverInPlace(
      msg,
      (m) => {
        calls.push(payload(m));
        if (payload(m) === 1 && m.redeliveries === 0) m.nak(1);
        return shared;
      },
      async () => undefined,
    );
    expect(calls).toEqual([0, 1, 2, 1]);
    expect(rereads.count).toBe(0);
  });

  it('retries a failed group in place when the failure is retriable', async () => {
    const { msg } = wire(2);
    const seen: [number, number][] = [];
    const failure = Promise.reject(new TransientError('T', 'redis down'));
    await deliverInPlace(
      msg,
      (m) => {
        seen.push([payload(m), m.redeliveries]);
        return m.redeliveries === 0 ? failure : undefined;
      },
      async () => undefined,
    );
    expect(seen).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
    ]);
  });
});
