/**
 * The real data and strategy handler modules against kinesis-local, local SQS and DynamoDB Local,
 * fed Kinesis and MSK records in the shapes Lambda delivers.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent, MSKEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDataApp } from '../../../functions/data/app.ts';
import { DEAD_LETTER_SCHEMA } from '../../../shared/bus/dlq.ts';
import { QualityReason, makeEnvelope, type Bar, type OrderIntent } from '../../../shared/domain/index.ts';
import { KinesisPublisher, SqsDeadLetters, createObservability, parseStreamEvent } from '../../../shared/lambda/index.ts';
import { DynamoStore } from '../../../shared/store/index.ts';
import { LOCAL_CREDENTIALS, startDynamoDbLocal, type DynamoDbLocal } from '../../helpers/dynamodb-local.ts';
import { startKinesisLocal, toKinesisRecords, type KinesisLocal } from '../../helpers/kinesis-local.ts';
import { freePort } from '../../helpers/launch.ts';
import { startSqsLocal, type SqsLocal } from '../../helpers/sqs-local.ts';
import { lambdaContext } from './context.ts';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const MIN = 60_000_000;
const T0 = 1_700_000_000_000_000;
const INGEST_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/market-ingest';
const EVENTS_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/market-events';

type BatchHandler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

let ddb: DynamoDbLocal;
let kinesis: KinesisLocal;
let sqs: SqsLocal;
let store: DynamoStore;
let dlqUrl: string;
let intentsUrl: string;
let dataHandler: BatchHandler;
let strategyHandler: BatchHandler;

function bar(i: number, close: number, over: Partial<Bar> = {}): Bar {
  return { kind: 'bar', symbol: 'BTC', ts: T0 + i * MIN, intervalUs: MIN, open: close, high: close + 1, low: close - 1, close, volume: 10, ...over };
}
const env = (e: unknown) => makeEnvelope(`market.bar.v1`, e, { producer: 'test', traceId: 'trace-in' });

beforeAll(async () => {
  [ddb, kinesis, sqs] = await Promise.all([startDynamoDbLocal(), startKinesisLocal(), startSqsLocal()]);
  await kinesis.createStream('market-events', 1);
  const table = await ddb.createTable();
  store = new DynamoStore({ tableName: table, client: ddb.client });
  dlqUrl = await sqs.createQueue('dlq');
  intentsUrl = await sqs.createQueue('intents.fifo');
  const vars: Record<string, string> = {
    TABLE_NAME: table,
    DLQ_URL: dlqUrl,
    INTENTS_QUEUE_URL: intentsUrl,
    MARKET_EVENTS_STREAM: 'market-events',
    ACCOUNT_ID: 'paper-1',
    STRATEGY: 'sma-cross',
    STRATEGY_PARAMS: JSON.stringify({ fast: 2, slow: 3 }),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
  dataHandler = ((await import('../../../functions/data/handler.ts')) as unknown as { handler: BatchHandler }).handler;
  strategyHandler = ((await import('../../../functions/strategy/handler.ts')) as unknown as { handler: BatchHandler }).handler;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([ddb?.stop(), kinesis?.stop(), sqs?.stop()]);
});

describe('data handler', () => {
  it('publishes good events to MARKET_EVENTS and dead-letters poison and quality rejects with reason and original', async () => {
    const payloads = [
      env(bar(0, 100)),
      'not json at all',
      env(bar(1, 101, { high: 50 })),
      env(bar(2, 102)),
      env(bar(1, 99)),
      env(bar(3, 103)),
    ];
    const event: KinesisStreamEvent = { Records: toKinesisRecords(payloads, INGEST_ARN) };
    const out = await dataHandler(event, lambdaContext('data'));
    expect(out.batchItemFailures).toEqual([]);

    const published = (await kinesis.readAll('market-events')).map((r) => JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString()) as { schema: string; trace_id: string; data: Bar });
    expect(published.map((p) => p.data.close)).toEqual([100, 102, 103]);
    expect(published.every((p) => p.schema === 'market.bar.v1' && p.trace_id === 'trace-in')).toBe(true);

    const letters = (await sqs.drain(dlqUrl)).map((m) => JSON.parse(m.Body ?? '') as { schema: string; data: { code: string; reason: string; original: unknown; originSubject: string } });
    expect(letters).toHaveLength(3);
    expect(letters.every((l) => l.schema === DEAD_LETTER_SCHEMA && l.data.originSubject === INGEST_ARN)).toBe(true);
    const byCode = Object.fromEntries(letters.map((l) => [l.data.code, l.data]));
    expect(byCode.BAD_JSON.original).toBe('not json at all');
    expect(byCode.BAD_PAYLOAD.reason).toMatch(/high/);
    // The bar that arrives out of order is dropped by the quality gate; the gap it leaves is only a flag.
    expect(byCode.OUT_OF_ORDER.original).toMatchObject({ close: 99 });
    expect(letters.filter((l) => QualityReason.safeParse(l.data.code).success)).toHaveLength(1);
  });

  it('accepts MSK batches with base64 values', async () => {
    const event: MSKEvent = {
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/md/1',
      bootstrapServers: 'b-1:9092',
      records: {
        'md.raw-0': [
          { topic: 'md.raw', partition: 0, offset: 7, timestamp: 1, timestampType: 'CREATE_TIME', key: '', value: Buffer.from(JSON.stringify(env(bar(10, 110)))).toString('base64'), headers: [] },
        ],
      },
    };
    const out = await dataHandler(event, lambdaContext('data'));
    expect(out.batchItemFailures).toEqual([]);
    const closes = (await kinesis.readAll('market-events')).map((r) => (JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString()) as { data: Bar }).data.close);
    expect(closes).toContain(110);
  });

  it('reports a poison record as a batch item failure when the DLQ itself is down, so nothing is lost', async () => {
    const obs = createObservability('data', { POWERTOOLS_LOG_LEVEL: 'ERROR' });
    const deadPort = await freePort();
    const app = createDataApp(
      {},
      {
        publisher: new KinesisPublisher({
          client: new KinesisClient({ endpoint: kinesis.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() }),
          streamName: 'market-events',
          producer: 'test',
        }),
        dlq: new SqsDeadLetters({ client: new SQSClient({ endpoint: `http://127.0.0.1:${deadPort}`, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }), queueUrl: `http://127.0.0.1:${deadPort}/1/dlq`, producer: 'test', obs }),
        obs,
      },
    );
    const records = toKinesisRecords([env(bar(20, 100)), '{broken', env(bar(21, 101))], INGEST_ARN, 100);
    const out = await app.handle(parseStreamEvent({ Records: records }));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: records[1].kinesis.sequenceNumber }]);
  });
});

describe('strategy handler', () => {
  it('turns market events into FIFO intents and keeps warm state in the store across batches', async () => {
    const closes = [100, 99, 98, 97, 99, 103, 108];
    const first: KinesisStreamEvent = { Records: toKinesisRecords(closes.slice(0, 4).map((c, i) => env(bar(i, c))), EVENTS_ARN) };
    const second: KinesisStreamEvent = { Records: toKinesisRecords(closes.slice(4).map((c, i) => env(bar(i + 4, c))), EVENTS_ARN, 10) };
    expect((await strategyHandler(first, lambdaContext('strategy'))).batchItemFailures).toEqual([]);
    expect((await store.loadStrategyState('paper-1#sma-cross'))?.version).toBe(1);
    expect((await strategyHandler(second, lambdaContext('strategy'))).batchItemFailures).toEqual([]);
    expect((await store.loadStrategyState('paper-1#sma-cross'))?.version).toBe(2);

    const messages = await sqs.drain(intentsUrl);
    // The fast SMA crosses above the slow one only in the second batch, which needs the first batch's window.
    expect(messages.length).toBe(1);
    const intent = (JSON.parse(messages[0].Body ?? '') as { data: OrderIntent }).data;
    expect(intent).toMatchObject({ accountId: 'paper-1', symbol: 'BTC', side: 'buy' });
    expect(messages[0].Attributes?.MessageGroupId).toBe('paper-1#BTC');
    expect(messages[0].Attributes?.MessageDeduplicationId).toBe(intent.clientOrderId);
    expect((await store.listSignals(intent.strategyId, 'BTC')).length).toBeGreaterThan(0);
  });
});
