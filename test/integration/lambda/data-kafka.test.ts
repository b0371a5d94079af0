/**
 * The kafka-hot-path data handler module (functions/data/kafka-handler.ts) against librdkafka's mock
 * cluster (a PROTOCOL-LEVEL MOCK, see test/helpers/kafka-mock.ts; plaintext, so KAFKA_AUTH=none) and
 * local SQS: MSK md.raw batches in, md.events out, read back the way the strategy function's MSK
 * event source mapping delivers them.
 */
import type { MSKEvent } from 'aws-lambda';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadKafkaTopics } from '../../../shared/bus/index.ts';
import { MarketEventSchema, makeEnvelope, openEnvelope, type Bar } from '../../../shared/domain/index.ts';
import { mskIamToken } from '../../../shared/lambda/kafka.ts';
import { parseJsonBody, parseStreamEvent, streamItems } from '../../../shared/lambda/index.ts';
import { startKafkaMock, type KafkaMock } from '../../helpers/kafka-mock.ts';
import { startSqsLocal, type SqsLocal } from '../../helpers/sqs-local.ts';
import { lambdaContext } from './context.ts';

const MIN = 60_000_000;
const T0 = 1_700_000_000_000_000;

type BatchHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

let mock: KafkaMock;
let sqs: SqsLocal;
let dlqUrl: string;
let handler: BatchHandler;

const bar = (i: number, symbol: string, close: number): Bar => ({ kind: 'bar', symbol, ts: T0 + i * MIN, intervalUs: MIN, open: close, high: close + 1, low: close - 1, close, volume: 10 });

function mskEvent(topic: string, values: { key?: string; value: string }[], offset = 0): MSKEvent {
  return {
    eventSource: 'aws:kafka',
    eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/hot/1',
    bootstrapServers: mock.brokers.join(','),
    records: {
      [`${topic}-0`]: values.map((v, i) => ({
        topic,
        partition: 0,
        offset: offset + i,
        timestamp: 1,
        timestampType: 'CREATE_TIME' as const,
        key: Buffer.from(v.key ?? '').toString('base64'),
        value: Buffer.from(v.value).toString('base64'),
        headers: [],
      })),
    },
  };
}

/** Every message on `topic` from the beginning, once `count` have arrived. */
async function readTopic(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = new Kafka({ clientId: 'reader', brokers: mock.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `reader-${Date.now()}`, maxWaitTimeInMs: 100 });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    const deadline = Date.now() + 20_000;
    while (got.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

beforeAll(async () => {
  [mock, sqs] = await Promise.all([startKafkaMock(1, loadKafkaTopics('local/kafka/topics.json')), startSqsLocal()]);
  dlqUrl = await sqs.createQueue('dlq');
  const vars: Record<string, string> = {
    KAFKA_BROKERS: mock.brokers.join(','),
    KAFKA_AUTH: 'none',
    DLQ_URL: dlqUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
  handler = ((await import('../../../functions/data/kafka-handler.ts')) as unknown as { handler: BatchHandler }).handler;
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([mock?.stop(), sqs?.stop()]);
});

describe('data handler on the kafka hot path', () => {
  it('publishes normalised events to md.events, keyed by symbol, readable by the strategy function', async () => {
    const raw = [bar(0, 'BTC', 100), bar(0, 'ETH', 10), bar(1, 'BTC', 101), bar(1, 'ETH', 11)].map((b) => ({ value: JSON.stringify(makeEnvelope('market.bar.v1', b, { producer: 'feed', traceId: 'trace-k' })) }));
    const out = await handler(mskEvent('md.raw', [...raw, { value: 'not json' }]), lambdaContext('data'));
    expect(out.batchItemFailures).toEqual([]);

    const messages = await readTopic('md.events', 4);
    expect(messages).toHaveLength(4);
    expect(messages.map((m) => m.key?.toString()).sort()).toEqual(['BTC', 'BTC', 'ETH', 'ETH']);
    expect(messages.every((m) => m.headers?.subject?.toString() === `md.events.${m.key?.toString()}`)).toBe(true);

    // What the strategy function gets from its MSK event source mapping on md.events.
    const delivered = parseStreamEvent(mskEvent('md.events', messages.map((m) => ({ key: m.key?.toString(), value: m.value?.toString() ?? '' }))));
    const events = streamItems(delivered).map((item) => openEnvelope(parseJsonBody(item), MarketEventSchema, item.where));
    expect(events.map((e) => e.schema)).toEqual(Array(4).fill('market.bar.v1'));
    expect(events.every((e) => e.trace_id === 'trace-k')).toBe(true);
    expect(events.map((e) => `${e.data.symbol}:${(e.data as Bar).close}`).sort()).toEqual(['BTC:100', 'BTC:101', 'ETH:10', 'ETH:11']);

    const letters = await sqs.drain(dlqUrl);
    expect(letters.map((m) => (JSON.parse(m.Body ?? '') as { data: { code: string } }).data.code)).toEqual(['BAD_JSON']);
  }, 60_000);
});

describe('MSK IAM auth token', () => {
  it('is a base64url presigned kafka-cluster:Connect URL for the region, valid 15 minutes', async () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const token = await mskIamToken('eu-west-1', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' }, now);
    expect(token.value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(token.expiresAtMs).toBe(now.getTime() + 900_000);
    const url = new URL(Buffer.from(token.value, 'base64url').toString());
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('kafka-cluster:Connect');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20260102/eu-west-1/kafka-cluster/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20260102T030405Z');
    expect(q.get('X-Amz-Expires')).toBe('900');
    expect(q.get('X-Amz-Security-Token')).toBe('session');
    expect(q.get('X-Amz-SignedHeaders')).toBe('host');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    // Same inputs, same signature; another secret, another one.
    const again = await mskIamToken('eu-west-1', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' }, now);
    expect(again.value).toBe(token.value);
    const other = await mskIamToken('eu-west-1', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'other', sessionToken: 'session' }, now);
    expect(new URL(Buffer.from(other.value, 'base64url').toString()).searchParams.get('X-Amz-Signature')).not.toBe(q.get('X-Amz-Signature'));
  });
});
