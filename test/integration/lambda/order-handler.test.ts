/**
 * The real order handler module (config from env at import) against DynamoDB Local and local SQS,
 * fed SQS FIFO records exactly as received from the queue.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientOrderId, makeEnvelope, type OrderIntent } from '../../../shared/domain/index.ts';
import { DEAD_LETTER_SCHEMA } from '../../../shared/bus/dlq.ts';
import { INTENT_SCHEMA, SqsIntentSender } from '../../../shared/lambda/index.ts';
import { DynamoStore } from '../../../shared/store/index.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../helpers/dynamodb-local.ts';
import { startSqsLocal, toSqsRecords, type SqsLocal } from '../../helpers/sqs-local.ts';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { lambdaContext } from './context.ts';

const T0 = 1_700_000_000_000_000;
const ACCOUNT = 'paper-1';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:intents.fifo';
const MAX_POSITION = 50;

let ddb: DynamoDbLocal;
let sqs: SqsLocal;
let store: DynamoStore;
let intentsUrl: string;
let dlqUrl: string;
type Handler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
let handler: Handler;

beforeAll(async () => {
  [ddb, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
  const table = await ddb.createTable();
  intentsUrl = await sqs.createQueue('intents.fifo');
  dlqUrl = await sqs.createQueue('dlq');
  store = new DynamoStore({ tableName: table, client: ddb.client });
  vi.stubEnv('TABLE_NAME', table);
  vi.stubEnv('DLQ_URL', dlqUrl);
  vi.stubEnv('ACCOUNT_ID', ACCOUNT);
  vi.stubEnv('MAX_POSITION_SIZE', String(MAX_POSITION));
  vi.stubEnv('MAX_GROSS_EXPOSURE', '1000000');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', ddb.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'ERROR');
  ({ handler } = (await import('../../../functions/order/handler.ts')) as unknown as { handler: Handler });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([ddb?.stop(), sqs?.stop()]);
});

function intent(n: number, over: Partial<OrderIntent> = {}): OrderIntent {
  const base = { accountId: ACCOUNT, strategyId: 'sma-cross', symbol: 'BTC', ts: T0 + n, side: 'buy' as const, qty: 1 };
  return {
    ...base,
    clientOrderId: clientOrderId(base),
    type: 'market',
    timeInForce: 'GTC',
    decisionPrice: 100,
    reduceOnly: false,
    reason: 'test',
    ...over,
  };
}

/** Sends intents through the FIFO queue and receives them back as the event source mapping would. */
async function deliver(intents: OrderIntent[]): Promise<SQSEvent> {
  await new SqsIntentSender({ client: sqs.client, queueUrl: intentsUrl, producer: 'test' }).send(intents, 'trace-test');
  return { Records: toSqsRecords(await sqs.drain(intentsUrl), QUEUE_ARN) };
}

describe('order handler', () => {
  it('gives ONE order, one fill set and one position change when the same SQS batch is delivered twice', async () => {
    const intents = [intent(1, { symbol: 'ETH', qty: 2 }), intent(2, { symbol: 'ETH', qty: 3 }), intent(3, { symbol: 'SOL', side: 'sell', qty: 1 })];
    const event = await deliver(intents);
    expect(event.Records).toHaveLength(3);
    expect(event.Records[0].attributes.MessageGroupId).toBe(`${ACCOUNT}#ETH`);
    expect(event.Records[0].attributes.MessageDeduplicationId).toBe(intents[0].clientOrderId);

    const first = await handler(event, lambdaContext('order'));
    const second = await handler(event, lambdaContext('order'));
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);

    for (const i of intents) {
      expect(await store.getOrder(ACCOUNT, i.clientOrderId)).toMatchObject({ stage: 'done', order: { status: 'filled', filledQty: i.qty } });
      expect(await store.listFills(ACCOUNT, i.clientOrderId)).toHaveLength(1);
      expect((await store.listAudit(`order:${i.clientOrderId}`)).map((a) => a.action)).toEqual(['order.filled']);
    }
    expect((await store.getPosition(ACCOUNT, 'ETH'))?.qty).toBe(5);
    expect((await store.getPosition(ACCOUNT, 'SOL'))?.qty).toBe(-1);
    const exposure = await store.getExposure(ACCOUNT);
    expect(exposure.openReservations).toBe(0);
    expect(exposure.symbols.ETH.filledQty).toBe(5);
  });

  it('never lets 200 concurrent conflicting intents exceed the position limit', async () => {
    const intents = Array.from({ length: 200 }, (_, n) => intent(1_000 + n, { symbol: 'DOGE' }));
    const events: SQSEvent[] = intents.map((i, n) => ({
      Records: [
        {
          ...toSqsRecords([{ MessageId: `m-${n}`, ReceiptHandle: `r-${n}`, Body: JSON.stringify(makeEnvelope(INTENT_SCHEMA, i, { producer: 'test' })) }], QUEUE_ARN)[0],
          attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: `${ACCOUNT}#DOGE`, MessageDeduplicationId: i.clientOrderId },
        },
      ],
    }));
    // Real Lambda concurrency would spread these over containers; one process gets a long deadline instead.
    const results = await Promise.all(events.map((e) => handler(e, lambdaContext('order', 600_000))));
    expect(results.every((r) => r.batchItemFailures.length === 0)).toBe(true);

    const orders = await Promise.all(intents.map((i) => store.getOrder(ACCOUNT, i.clientOrderId)));
    const filled = orders.filter((o) => o?.order.status === 'filled');
    const rejected = orders.filter((o) => o?.order.status === 'rejected');
    expect(filled).toHaveLength(MAX_POSITION);
    expect(rejected).toHaveLength(200 - MAX_POSITION);
    expect(rejected[0]?.order.rejectReason).toMatch(/MAX_POSITION_QTY/);
    expect((await store.getPosition(ACCOUNT, 'DOGE'))?.qty).toBe(MAX_POSITION);
    expect((await store.getExposure(ACCOUNT)).symbols.DOGE.longUse).toBe(MAX_POSITION);
  }, 240_000);

  it('dead-letters poison intents with their reason and original payload, without reporting them', async () => {
    await sqs.client.send(new SendMessageCommand({ QueueUrl: intentsUrl, MessageBody: 'not json {', MessageGroupId: `${ACCOUNT}#X`, MessageDeduplicationId: 'poison-1' }));
    const bad = { ...intent(5_000), qty: -3 };
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: intentsUrl, MessageBody: JSON.stringify(makeEnvelope(INTENT_SCHEMA, bad, { producer: 'test' })), MessageGroupId: `${ACCOUNT}#Y`, MessageDeduplicationId: 'poison-2' }),
    );
    const event: SQSEvent = { Records: toSqsRecords(await sqs.drain(intentsUrl), QUEUE_ARN) };
    const out = await handler(event, lambdaContext('order'));
    expect(out.batchItemFailures).toEqual([]);

    const letters = (await sqs.drain(dlqUrl)).map((m) => JSON.parse(m.Body ?? '') as { schema: string; data: { code: string; reason: string; original: string } });
    expect(letters).toHaveLength(2);
    expect(letters.every((l) => l.schema === DEAD_LETTER_SCHEMA)).toBe(true);
    expect(letters.map((l) => l.data.code).sort()).toEqual(['BAD_JSON', 'BAD_PAYLOAD']);
    expect(letters.find((l) => l.data.code === 'BAD_JSON')?.data.original).toBe('not json {');
    expect(letters.find((l) => l.data.code === 'BAD_PAYLOAD')?.data.reason).toMatch(/qty/);
    expect(await store.getOrder(ACCOUNT, bad.clientOrderId)).toBeUndefined();
  });

  it('reports a retriable failure and holds back the rest of its FIFO group, while other groups proceed', async () => {
    const busy = intent(7_000, { symbol: 'ADA' });
    const behind = intent(7_001, { symbol: 'ADA' });
    const other = intent(7_002, { symbol: 'XRP' });
    // Another attempt holds a live lease on `busy`.
    await store.claimOrder({ ...busy, status: 'new', filledQty: 0, avgFillPrice: 0, createdTs: busy.ts, updatedTs: busy.ts }, { nowMs: Date.now(), leaseMs: 600_000 });
    const event = await deliver([busy, behind, other]);
    const out = await handler(event, lambdaContext('order'));
    const idOf = (i: OrderIntent) => event.Records.find((r) => r.attributes.MessageDeduplicationId === i.clientOrderId)?.messageId;
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([idOf(busy), idOf(behind)].sort());
    expect(await store.getOrder(ACCOUNT, behind.clientOrderId)).toBeUndefined();
    expect((await store.getOrder(ACCOUNT, other.clientOrderId))?.order.status).toBe('filled');
  });

  it('fails the invocation on an event that is not an SQS batch', async () => {
    await expect(handler({ Records: [{ nope: true }] } as unknown as SQSEvent, lambdaContext('order'))).rejects.toThrow(/order function event/);
  });
});
