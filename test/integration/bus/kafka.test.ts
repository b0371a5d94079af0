/**
 * The Kafka adapter against librdkafka's mock cluster: a PROTOCOL-LEVEL MOCK, not a real broker
 * (see test/helpers/kafka-mock.ts for what it cannot do with kafkajs: controller-routed admin calls
 * and the idempotent producer's InitProducerId fail there, so this suite uses idempotent: false and
 * topics pre-created by the mock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';
import { TransientError, ConfigError } from '../../../shared/util/errors.ts';
import { KafkaBus, applyKafka, loadKafkaTopics, subjects } from '../../../shared/bus/index.ts';
import { startKafkaMock, type KafkaMock } from '../../helpers/kafka-mock.ts';

let mock: KafkaMock;
let bus: KafkaBus;
const topics = loadKafkaTopics('local/kafka/topics.json');

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  mock = await startKafkaMock(1, topics);
  bus = new KafkaBus({ brokers: mock.brokers, clientId: 'kafka-test', idempotent: false });
});
afterAll(async () => {
  await bus?.close();
  await mock?.stop();
});

describe('Kafka bus (librdkafka mock cluster)', () => {
  it('declares md.* with 8 partitions/24h, signals 4/7d, executions 4/30d', () => {
    const by = Object.fromEntries(topics.map((t) => [t.topic, t]));
    expect(by['md.events']).toEqual({ topic: 'md.events', partitions: 8, retentionMs: 24 * 3_600_000 });
    expect(by['signals']).toEqual({ topic: 'signals', partitions: 4, retentionMs: 7 * 86_400_000 });
    expect(by['executions']).toEqual({ topic: 'executions', partitions: 4, retentionMs: 30 * 86_400_000 });
  });

  it('sees provisioned topics as unchanged and their partition counts as declared', async () => {
    const admin = bus.kafka.admin();
    await admin.connect();
    try {
      const results = await applyKafka(admin, topics, { checkRetention: false });
      expect(results.map((r) => r.action)).toEqual(topics.map(() => 'unchanged'));
      const meta = await admin.fetchTopicMetadata({ topics: ['md.events', 'signals'] });
      expect(meta.topics.map((t) => t.partitions.length).sort()).toEqual([4, 8]);
      await expect(applyKafka(admin, [{ topic: 'signals', partitions: 2, retentionMs: 1 }], { checkRetention: false })).rejects.toThrow(/cannot shrink/);
    } finally {
      await admin.disconnect();
    }
  });

  it('fails startup with the command to run when a topic is missing', async () => {
    const bare = await startKafkaMock(1, [{ topic: 'md.events', partitions: 8 }]);
    const other = new KafkaBus({ brokers: bare.brokers, clientId: 'kafka-test-bare', idempotent: false });
    try {
      await other.assertProvisioned([subjects.marketEvents('BTC')]);
      const err = await other.assertProvisioned([subjects.executions('BTC')]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/executions.*algoplanes topics apply/);
    } finally {
      await other.close();
      await bare.stop();
    }
  });

  it('keys by symbol (per-symbol order kept), commits per group, retries a nak in place', async () => {
    const seen: { sym: string; n: number; redeliveries: number }[] = [];
    let failedOnce = false;
    const sub = await bus.subscribe('md.events.>', (m) => {
      const d = m.envelope.data as { sym: string; n: number };
      seen.push({ ...d, redeliveries: m.redeliveries });
      if (d.sym === 'ETH/USD' && d.n === 3 && !failedOnce) {
        failedOnce = true;
        throw new TransientError('FLAKY', 'first attempt fails');
      }
    }, { durable: 'kafka-test-group', maxInFlight: 8 });
    const items = [];
    for (let n = 0; n < 30; n++) {
      for (const sym of ['BTC', 'ETH/USD', 'SOL']) items.push({ subject: subjects.marketEvents(sym), envelope: makeEnvelope('t.v1', { sym, n }, { producer: 't' }) });
    }
    await bus.publishBatch(items);
    await until(() => seen.length >= 91, '91 deliveries');
    for (const sym of ['BTC', 'ETH/USD', 'SOL']) {
      const ns = seen.filter((s) => s.sym === sym && s.redeliveries === 0).map((s) => s.n);
      expect(ns).toEqual(Array.from({ length: 30 }, (_, i) => i));
    }
    expect(seen.filter((s) => s.redeliveries === 1)).toEqual([{ sym: 'ETH/USD', n: 3, redeliveries: 1 }]);
    await sub.close();

    // Same group after a restart: committed messages are not delivered again, new ones are.
    const after: number[] = [];
    const sub2 = await bus.subscribe('md.events.>', (m) => void after.push((m.envelope.data as { n: number }).n), { durable: 'kafka-test-group' });
    await bus.publish(subjects.marketEvents('BTC'), makeEnvelope('t.v1', { sym: 'BTC', n: 99 }, { producer: 't' }));
    await until(() => after.length >= 1, 'post-restart delivery');
    await new Promise((r) => setTimeout(r, 500));
    await sub2.close();
    expect(after).toEqual([99]);
  }, 90_000);

  it('packs like NATS: a batch shares Kafka messages per subject, delivered one envelope at a time with (offset, index)', async () => {
    const seen: { sym: string; n: number; seq: number; index: number }[] = [];
    const sub = await bus.subscribe('md.ofi.>', (m) => void seen.push({ ...(m.envelope.data as { sym: string; n: number }), seq: m.seq, index: m.index }), { durable: 'kafka-pack-group', maxInFlight: 8 });
    const items = [];
    for (let n = 0; n < 50; n++) {
      for (const sym of ['BTC', 'ETH']) items.push({ subject: subjects.ofi(sym), envelope: makeEnvelope('t.v1', { sym, n }, { producer: 't' }) });
    }
    await bus.publishBatch(items, { fireAndForget: true, pack: true });
    // A single packed publish of its own is sent with the next turn's batch.
    await bus.publish(subjects.ofi('BTC'), makeEnvelope('t.v1', { sym: 'BTC', n: 50 }, { producer: 't' }), { fireAndForget: true, pack: true });
    await until(() => seen.length >= 101, '101 deliveries');
    await sub.close();
    for (const sym of ['BTC', 'ETH']) {
      const mine = seen.filter((s) => s.sym === sym);
      expect(mine.map((s) => s.n)).toEqual(Array.from({ length: sym === 'BTC' ? 51 : 50 }, (_, i) => i));
      // One Kafka message per symbol for the batch: same offset, index 0..49.
      expect(new Set(mine.slice(0, 50).map((s) => s.seq)).size).toBe(1);
      expect(mine.slice(0, 50).map((s) => s.index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    expect(seen.find((s) => s.n === 50)).toMatchObject({ index: 0 });
  }, 90_000);
});
