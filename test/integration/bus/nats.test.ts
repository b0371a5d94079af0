import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageType } from 'nats';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';
import { ValidationError, TransientError, ConfigError } from '../../../shared/util/errors.ts';
import { NatsBus, applyNats, infoNats, listNats, loadNatsConfig, subjects, DeadLetterSchema, MAX_PACK, OUTPUT_LOST, type BusMessage } from '../../../shared/bus/index.ts';
import { startNatsServer } from '../../helpers/nats-server.ts';

type Server = Awaited<ReturnType<typeof startNatsServer>>;
let server: Server;
let bus: NatsBus;

const env = (n: number, id?: string) => makeEnvelope('test.v1', { n }, { producer: 'test', id });

async function until<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The newest dead letter of an origin subject, once there is one. */
async function lastDeadLetter(origin: string) {
  try {
    const m = await bus.jsm.streams.getMessage('SYSTEM', { last_by_subj: subjects.dlq(origin) });
    return DeadLetterSchema.parse((m.json() as { data: unknown }).data);
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  server = await startNatsServer();
  bus = await NatsBus.connect({ url: server.url, name: 'bus-test' });
});
afterAll(async () => {
  await bus?.close();
  await server?.stop();
});

describe('NATS JetStream bus', () => {
  it('refuses to publish or subscribe before provisioning, naming the command to run', async () => {
    await expect(bus.publish(subjects.intents('BTC'), env(1))).rejects.toThrow(/algoplanes streams apply/);
    await expect(bus.assertProvisioned([subjects.marketEvents('BTC')])).rejects.toBeInstanceOf(ConfigError);
  });

  it('applies stream/consumer JSON idempotently: create, then no-op, then update on change', async () => {
    const desired = loadNatsConfig('local/nats');
    const first = await applyNats(bus.jsm, desired);
    expect(first.filter((r) => r.action === 'created').length).toBe(desired.streams.length + desired.consumers.length);
    const second = await applyNats(bus.jsm, desired);
    expect(second.every((r) => r.action === 'unchanged')).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), 'algoplanes-nats-cfg-'));
    try {
      cpSync('local/nats', dir, { recursive: true });
      const file = join(dir, 'streams', 'SIGNALS.json');
      const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      cfg.max_age = 3_600_000_000_000;
      writeFileSync(file, JSON.stringify(cfg));
      const third = await applyNats(bus.jsm, loadNatsConfig(dir));
      expect(third.find((r) => r.name === 'SIGNALS')).toMatchObject({ action: 'updated', changed: ['max_age'] });
      await applyNats(bus.jsm, desired);

      // An ack policy cannot change in place: the error names the consumer, the field and the fix.
      const consumerFile = join(dir, 'consumers', 'ORDERS.order-worker.json');
      const consumer = JSON.parse(readFileSync(consumerFile, 'utf8')) as Record<string, unknown>;
      consumer.ack_policy = consumer.ack_policy === 'all' ? 'explicit' : 'all';
      writeFileSync(consumerFile, JSON.stringify(consumer));
      await expect(applyNats(bus.jsm, loadNatsConfig(dir))).rejects.toThrow(/consumer ORDERS\/order-worker: ack_policy cannot be changed .*nats consumer rm ORDERS order-worker/);
      await applyNats(bus.jsm, desired);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const names = (await listNats(bus.jsm)).map((s) => s.name);
    expect(names).toEqual(['EXECUTIONS', 'MARKET', 'ORDERS', 'RECORD', 'SIGNALS', 'SYSTEM']);
    const info = await infoNats(bus.jsm, 'MARKET');
    expect(info.consumers.length).toBe(3);
    await expect(infoNats(bus.jsm, 'NOPE')).rejects.toThrow(/streams apply/);
  });

  it('rejects a durable that was not provisioned instead of creating it', async () => {
    await expect(bus.subscribe(subjects.intents('>').replace('_3E', '>'), () => undefined, { durable: 'ghost' })).rejects.toThrow(/ghost.*streams apply/s);
  });

  it('dedups JetStream publishes by msgID', async () => {
    const e = env(7);
    await bus.publish(subjects.signals('ETH/USD'), e);
    await bus.publish(subjects.signals('ETH/USD'), e);
    const si = await bus.jsm.streams.info('SIGNALS');
    expect(si.state.messages).toBe(1);
    expect(si.state.first_seq).toBe(1);
  });

  it('delivers to a durable pull consumer with explicit ack, redelivers on nak, dead-letters on term', async () => {
    const seen: { n: number; redeliveries: number }[] = [];
    const sub = await bus.subscribe('orders.intents.>', async (m: BusMessage) => {
      const n = (m.envelope.data as { n: number }).n;
      seen.push({ n, redeliveries: m.redeliveries });
      if (n === 2 && m.redeliveries === 0) throw new TransientError('FLAKY', 'first attempt fails');
      if (n === 3) throw new ValidationError('BAD_PAYLOAD', 'n=3 is poison', 'field n');
    }, { durable: 'order-worker' });
    await bus.publishBatch([1, 2, 3].map((n) => ({ subject: subjects.intents('BTC-PERP'), envelope: env(n) })));
    await until(() => (seen.length >= 4 ? true : undefined), 'deliveries');
    await sub.close();
    expect(seen).toEqual([
      { n: 1, redeliveries: 0 },
      { n: 2, redeliveries: 0 },
      { n: 3, redeliveries: 0 },
      { n: 2, redeliveries: 1 },
    ]);
    // Work queue: acked and terminated intents leave the stream; the poison one lives on in the DLQ.
    await until(async () => ((await bus.jsm.streams.info('ORDERS')).state.messages === 0 ? true : undefined), 'ORDERS drained');
    const ci = await bus.jsm.consumers.info('ORDERS', 'order-worker');
    expect(ci.num_ack_pending).toBe(0);
    const dlq = await bus.jsm.streams.getMessage('SYSTEM', { last_by_subj: subjects.dlq('orders.intents.BTC-PERP') });
    const letter = DeadLetterSchema.parse((dlq.json() as { data: unknown }).data);
    expect(letter).toMatchObject({ originSubject: 'orders.intents.BTC-PERP', code: 'BAD_PAYLOAD', where: 'field n' });
    expect((letter.original as { data: { n: number } }).data.n).toBe(3);
  });

  it('dead-letters bytes that are not an envelope, keeping the original text', async () => {
    const sub = await bus.subscribe('exec.reports.>', () => undefined, { durable: 'strategy-worker' });
    await bus.nc.jetstream().publish(subjects.executions('BTC'), new TextEncoder().encode('{"not":"an envelope"}'));
    const letter = await until(() => lastDeadLetter('exec.reports.BTC'), 'dead letter');
    await sub.close();
    expect(letter.code).toBe('BAD_ENVELOPE');
    expect(letter.original).toBe('{"not":"an envelope"}');
  });

  it('acks an ack-all consumer cumulatively: one ack per batch of settled messages, retriable failures retried in place', async () => {
    // MARKET/strategy-worker is provisioned ack_policy "all" (local/nats/consumers).
    const acks: string[] = [];
    const ackSub = bus.nc.subscribe('$JS.ACK.MARKET.strategy-worker.>', { callback: (_e, m) => acks.push(m.subject) });
    const n = 300;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => (release = r));
    const seen: { n: number; redeliveries: number }[] = [];
    const sub = await bus.subscribe('md.events.>', async (m: BusMessage) => {
      const v = (m.envelope.data as { n: number }).n;
      seen.push({ n: v, redeliveries: m.redeliveries });
      if (v === 5 && m.redeliveries === 0) throw new TransientError('FLAKY', 'first attempt fails');
      await released;
    }, { durable: 'strategy-worker', maxInFlight: 10_000 });
    await bus.publishBatch(Array.from({ length: n }, (_, i) => ({ subject: subjects.marketEvents('ACKALL'), envelope: env(i) })), { fireAndForget: true });
    await until(() => (seen.length >= n + 1 ? true : undefined), 'all delivered');
    // Nothing acked while the handlers hold their messages (as a worker does until its checkpoint).
    await new Promise((r) => setTimeout(r, 100));
    expect(acks.length).toBe(0);
    expect((await bus.jsm.consumers.info('MARKET', 'strategy-worker')).num_ack_pending).toBeGreaterThan(0);
    release();
    await until(async () => ((await bus.jsm.consumers.info('MARKET', 'strategy-worker')).num_ack_pending === 0 ? true : undefined), 'cumulative ack');
    await sub.close();
    ackSub.unsubscribe();
    expect(acks.length).toBeGreaterThanOrEqual(1);
    expect(acks.length).toBeLessThan(10);
    // Retried in place: an ack-all consumer cannot redeliver one message without the cumulative ack covering it.
    expect(seen.filter((s) => s.n === 5)).toEqual([
      { n: 5, redeliveries: 0 },
      { n: 5, redeliveries: 1 },
    ]);
    expect((await bus.jsm.consumers.info('MARKET', 'strategy-worker')).num_pending).toBe(0);
    await bus.jsm.streams.purge('MARKET', { filter: 'md.events.ACKALL' });
  });

  it('leaves a message whose connection closed before its ack to be redelivered, without an error', async () => {
    // MARKET/order-worker: ack-all, ack_wait 5 s (local/nats/consumers).
    const closing = await NatsBus.connect({ url: server.url, name: 'bus-test-closing' });
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const first: number[] = [];
    await closing.subscribe('md.events.>', (m: BusMessage) => {
      first.push((m.envelope.data as { n: number }).n);
      return held;
    }, { durable: 'order-worker', maxInFlight: 10_000 });
    await bus.publishBatch([{ subject: subjects.marketEvents('CLOSING'), envelope: env(41) }], { fireAndForget: true });
    await until(() => (first.length > 0 ? true : undefined), 'first delivery');
    await closing.nc.close();
    // The checkpoint the handler waited for completes after the connection is gone: its ack cannot be sent, and must not throw.
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect((await bus.jsm.consumers.info('MARKET', 'order-worker')).num_ack_pending).toBe(1);
    const again: { n: number; redeliveries: number }[] = [];
    const sub = await bus.subscribe('md.events.>', (m: BusMessage) => void again.push({ n: (m.envelope.data as { n: number }).n, redeliveries: m.redeliveries }), { durable: 'order-worker', maxInFlight: 10_000 });
    await until(() => (again.length > 0 ? true : undefined), 'redelivery after ack_wait', 15_000);
    await until(async () => ((await bus.jsm.consumers.info('MARKET', 'order-worker')).num_ack_pending === 0 ? true : undefined), 'ack of the redelivery');
    await sub.close();
    expect(first).toEqual([41]);
    expect(again).toEqual([{ n: 41, redeliveries: 1 }]);
    await bus.jsm.streams.purge('MARKET', { filter: 'md.events.CLOSING' });
  });

  it('publishes the hot market stream fire-and-forget in batches, and RECORD sources it', async () => {
    const n = 20_000;
    const batch = 1_000;
    for (let i = 0; i < n; i += batch) {
      const items = Array.from({ length: batch }, (_, j) => ({ subject: subjects.marketEvents(j % 2 ? 'BTC.PERP' : 'ETH'), envelope: env(i + j) }));
      await bus.publishBatch(items, { fireAndForget: true });
    }
    await bus.flush();
    const market = await bus.jsm.streams.info('MARKET');
    expect(market.state.messages).toBe(n);
    expect(market.state.num_subjects).toBe(2);
    await until(async () => ((await bus.jsm.streams.info('RECORD')).state.messages >= n ? true : undefined), 'RECORD to source MARKET', 20_000);
  });

  it('packs hot-path envelopes several per wire message, delivers them one by one in order, and dead-letters a bad element alone', async () => {
    await bus.jsm.streams.purge('MARKET');
    const n = 2 * MAX_PACK + 100;
    await bus.publishBatch(Array.from({ length: n }, (_, i) => ({ subject: subjects.marketEvents('PACK'), envelope: env(i) })), { fireAndForget: true, pack: true });
    await bus.flush();
    // A pack from elsewhere whose middle element is not an envelope.
    bus.nc.publish(subjects.marketEvents('PACK'), new TextEncoder().encode(`[${JSON.stringify(env(n))},{"not":"an envelope"},${JSON.stringify(env(n + 1))}]`));
    await bus.flush();
    const stored = await bus.jsm.streams.info('MARKET', { subjects_filter: 'md.events.PACK' });
    expect(stored.state.subjects?.['md.events.PACK']).toBe(4);

    const seen: { n: number; seq: number; index: number }[] = [];
    const sub = await bus.subscribe('md.events.>', (m: BusMessage) => void seen.push({ n: (m.envelope.data as { n: number }).n, seq: m.seq, index: m.index }), { durable: 'order-worker', maxInFlight: 10_000 });
    await until(() => (seen.length >= n + 2 ? true : undefined), 'all envelopes delivered');
    const letter = await until(() => lastDeadLetter('md.events.PACK'), 'dead letter');
    await until(async () => ((await bus.jsm.consumers.info('MARKET', 'order-worker')).num_ack_pending === 0 ? true : undefined), 'cumulative ack');
    await sub.close();
    expect(seen.map((s) => s.n)).toEqual(Array.from({ length: n + 2 }, (_, i) => i));
    // (seq, index) orders the deliveries: the first pack is full, the hand-made one skips the bad element.
    expect(seen[MAX_PACK - 1].index).toBe(MAX_PACK - 1);
    expect(seen[MAX_PACK]).toMatchObject({ seq: seen[0].seq + 1, index: 0 });
    expect(seen.slice(-2).map((s) => s.index)).toEqual([0, 2]);
    expect(letter).toMatchObject({ code: 'BAD_ENVELOPE', where: `md.events.PACK#${seen[n].seq}[1]`, original: '{"not":"an envelope"}' });
  });

  it('publishes acked packs with one JetStream ack per pack and the msgID dedups a repeated pack', async () => {
    const items = [1, 2, 3].map((n) => ({ subject: subjects.intents('PACKED'), envelope: env(n), msgId: `packed-${n}` }));
    await bus.publishBatch(items, { pack: true });
    await bus.publishBatch(items, { pack: true });
    const stored = await bus.jsm.streams.info('ORDERS', { subjects_filter: 'orders.intents.PACKED' });
    expect(stored.state.subjects?.['orders.intents.PACKED']).toBe(1);
    const seen: number[] = [];
    const sub = await bus.subscribe('orders.intents.>', (m: BusMessage) => void seen.push((m.envelope.data as { n: number }).n), { durable: 'order-worker' });
    await until(() => (seen.length >= 3 ? true : undefined), 'deliveries');
    // Explicit-ack work queue: the pack is acked once all of its envelopes are handled.
    await until(async () => ((await bus.jsm.streams.info('ORDERS')).state.messages === 0 ? true : undefined), 'ORDERS drained');
    await sub.close();
    expect(seen).toEqual([1, 2, 3]);
  });

  it('confirms no-ack publishes at flush with one acked duplicate per subject, and reports OUTPUT_LOST when the stream never got them', async () => {
    await bus.jsm.streams.purge('EXECUTIONS');
    await bus.publish(subjects.executions('FENCE'), env(1), { msgId: 'fence-1', fireAndForget: true });
    await bus.publish(subjects.executions('FENCE'), env(2), { msgId: 'fence-2', fireAndForget: true });
    await bus.flush();
    const stored = await bus.jsm.streams.info('EXECUTIONS', { subjects_filter: 'exec.reports.FENCE' });
    expect(stored.state.subjects?.['exec.reports.FENCE']).toBe(2);

    // Lost on the way: published while no stream captured the subject (as if the server lost it).
    await bus.publish('fence.lost', env(3), { msgId: 'fence-3', fireAndForget: true });
    await new Promise((r) => setImmediate(r));
    await bus.nc.flush();
    await bus.jsm.streams.add({ name: 'FENCE', subjects: ['fence.>'], storage: StorageType.Memory });
    try {
      const err = await bus.flush().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: OUTPUT_LOST });
    } finally {
      await bus.jsm.streams.delete('FENCE');
    }
  });
});
