import { describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';
import { TransientError, ValidationError } from '../../../shared/util/errors.ts';
import { MemoryBus, subjects, escapeToken, unescapeToken, kafkaAddress, subjectMatches, withRetry, RetriesExhaustedError, DeadLetterSchema } from '../../../shared/bus/index.ts';

const env = (n: number) => makeEnvelope('test.v1', { n }, { producer: 'test' });
const tick = () => new Promise((r) => setTimeout(r, 30));

describe('subject registry', () => {
  it('escapes symbols into single NATS tokens and back', () => {
    for (const s of ['BTC-PERP', 'BTC/USD', 'ES.FUT', 'a_b', 'X:Y']) {
      const t = escapeToken(s);
      expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(unescapeToken(t)).toBe(s);
    }
    expect(subjects.marketEvents('ES.FUT')).toBe('md.events.ES_2EFUT');
    expect(() => escapeToken('')).toThrow(/empty symbol/);
  });

  it('maps the same names to Kafka topics keyed by symbol', () => {
    expect(kafkaAddress(subjects.marketEvents('BTC/USD'))).toEqual({ topic: 'md.events', key: 'BTC/USD' });
    expect(kafkaAddress(subjects.executions('ETH'))).toEqual({ topic: 'executions', key: 'ETH' });
    expect(() => kafkaAddress('nope.x')).toThrow(/not in the registry/);
  });

  it('matches wildcards like NATS', () => {
    expect(subjectMatches('md.events.>', 'md.events.BTC')).toBe(true);
    expect(subjectMatches('md.events.>', 'md.events')).toBe(false);
    expect(subjectMatches('md.*.BTC', 'md.ofi.BTC')).toBe(true);
    expect(subjectMatches('md.*', 'md.ofi.BTC')).toBe(false);
  });
});

describe('retry', () => {
  it('retries only retriable errors and reports the attempt count', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls++; throw new ValidationError('X', 'bad'); }, { where: 'w', baseDelayMs: 1 })).rejects.toBeInstanceOf(ValidationError);
    expect(calls).toBe(1);
    calls = 0;
    const err = await withRetry(async () => { calls++; throw new TransientError('T', 'down'); }, { where: 'w', attempts: 3, baseDelayMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as RetriesExhaustedError).attempts).toBe(3);
    expect(calls).toBe(3);
    calls = 0;
    expect(await withRetry(async () => (++calls < 2 ? Promise.reject(new TransientError('T', 'x')) : 'ok'), { where: 'w', baseDelayMs: 1 })).toBe('ok');
  });
});

describe('memory bus', () => {
  it('delivers asynchronously in order, fans out, and spreads a queue group', async () => {
    const bus = new MemoryBus();
    const all: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    await bus.subscribe('md.events.>', (m) => void all.push((m.envelope.data as { n: number }).n));
    await bus.subscribe('md.events.>', (m) => void a.push((m.envelope.data as { n: number }).n), { queue: 'w' });
    await bus.subscribe('md.events.>', (m) => void b.push((m.envelope.data as { n: number }).n), { queue: 'w' });
    for (let i = 0; i < 6; i++) await bus.publish(subjects.marketEvents('BTC'), env(i));
    expect(all).toEqual([]);
    await tick();
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...a, ...b].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.length).toBe(3);
    await bus.close();
  });

  it('redelivers retriable failures and dead-letters poison messages with reason and original', async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    const dead: unknown[] = [];
    await bus.subscribe('sys.dlq.>', (m) => void dead.push(m.envelope.data));
    await bus.subscribe('orders.intents.>', (m) => {
      const n = (m.envelope.data as { n: number }).n;
      seen.push(`${n}/${m.redeliveries}`);
      if (n === 1 && m.redeliveries === 0) throw new TransientError('T', 'flaky');
      if (n === 2) throw new ValidationError('BAD_PAYLOAD', 'nope', 'qty');
    });
    await bus.publish(subjects.intents('BTC'), env(1));
    await bus.publish(subjects.intents('BTC'), env(2));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['1/0', '2/0', '1/1']);
    expect(dead).toHaveLength(1);
    expect(DeadLetterSchema.parse(dead[0])).toMatchObject({ code: 'BAD_PAYLOAD', where: 'qty', originSubject: 'orders.intents.BTC' });
    await bus.close();
  });
});
