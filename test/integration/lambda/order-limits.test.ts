/**
 * Account-wide limits across Lambda containers: several independently imported order handler
 * modules (each with its own clients and state, as separate containers have) take concurrent
 * intents for one account against DynamoDB Local; the net-exposure and daily-loss limits hold
 * because the store enforces them atomically, not because any one container saw every order.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientOrderId, makeEnvelope, utcDay, type OrderIntent } from '../../../shared/domain/index.ts';
import { INTENT_SCHEMA } from '../../../shared/lambda/index.ts';
import { DynamoStore } from '../../../shared/store/index.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../helpers/dynamodb-local.ts';
import { startSqsLocal, toSqsRecords, type SqsLocal } from '../../helpers/sqs-local.ts';
import { lambdaContext } from './context.ts';

const T0 = 1_700_000_000_000_000;
const DAY_US = 86_400_000_000;
const ACCOUNT = 'paper-1';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:intents.fifo';
const CONTAINERS = 4;

type Handler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

let ddb: DynamoDbLocal;
let sqs: SqsLocal;

beforeAll(async () => {
  [ddb, sqs] = await Promise.all([startDynamoDbLocal(), startSqsLocal()]);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([ddb?.stop(), sqs?.stop()]);
});

/** A fresh table and `CONTAINERS` separately imported handler modules configured by `env`. */
async function containers(env: Record<string, string>): Promise<{ store: DynamoStore; handlers: Handler[] }> {
  const table = await ddb.createTable();
  const base: Record<string, string> = {
    TABLE_NAME: table,
    DLQ_URL: await sqs.createQueue(`dlq-${table}`),
    ACCOUNT_ID: ACCOUNT,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  for (const [k, v] of Object.entries({ ...base, ...env })) vi.stubEnv(k, v);
  const handlers: Handler[] = [];
  for (let i = 0; i < CONTAINERS; i++) {
    vi.resetModules();
    handlers.push(((await import('../../../functions/order/handler.ts')) as unknown as { handler: Handler }).handler);
  }
  return { store: new DynamoStore({ tableName: table, client: ddb.client }), handlers };
}

function intent(ts: number, over: Partial<OrderIntent> = {}): OrderIntent {
  const base = { accountId: ACCOUNT, strategyId: 'sma-cross', symbol: 'BTC', ts, side: 'buy' as const, qty: 1, ...over };
  return { ...base, clientOrderId: clientOrderId(base), type: 'market', timeInForce: 'GTC', decisionPrice: 100, reduceOnly: false, reason: 'test', ...over };
}

function event(i: OrderIntent, n: number): SQSEvent {
  const [record] = toSqsRecords([{ MessageId: `m-${i.clientOrderId}-${n}`, ReceiptHandle: `r-${n}`, Body: JSON.stringify(makeEnvelope(INTENT_SCHEMA, i, { producer: 'test' })) }], QUEUE_ARN);
  return { Records: [{ ...record, attributes: { ...record.attributes, MessageGroupId: `${ACCOUNT}#${i.symbol}`, MessageDeduplicationId: i.clientOrderId } }] };
}

/** Each intent to the next container in turn, all at once, as concurrent invocations would be. */
async function runConcurrently(handlers: Handler[], intents: OrderIntent[]): Promise<void> {
  const results = await Promise.all(intents.map((i, n) => handlers[n % handlers.length](event(i, n), lambdaContext('order', 600_000))));
  expect(results.every((r) => r.batchItemFailures.length === 0)).toBe(true);
}

async function statuses(store: DynamoStore, intents: OrderIntent[]) {
  const orders = await Promise.all(intents.map(async (i) => (await store.getOrder(ACCOUNT, i.clientOrderId))?.order));
  return {
    filled: orders.filter((o) => o?.status === 'filled'),
    rejected: orders.filter((o) => o?.status === 'rejected'),
  };
}

describe('order handler limits across containers', () => {
  it('never lets concurrent intents on several containers breach the net-exposure limit', async () => {
    const { store, handlers } = await containers({ MAX_NET_EXPOSURE: '1000' });
    // 60 buys of 100 notional over 4 symbols: each container alone sees at most 15, i.e. 1,500.
    const intents = Array.from({ length: 60 }, (_, n) => intent(T0 + n, { symbol: ['BTC', 'ETH', 'SOL', 'ADA'][n % 4] }));
    await runConcurrently(handlers, intents);

    const { filled, rejected } = await statuses(store, intents);
    expect(filled).toHaveLength(10);
    expect(rejected).toHaveLength(50);
    expect(rejected.every((o) => /MAX_NET_EXPOSURE/.test(o?.rejectReason ?? ''))).toBe(true);
    const positions = await store.listPositions(ACCOUNT);
    expect(positions.reduce((sum, p) => sum + p.qty * p.lastPrice, 0)).toBe(1000);
    const view = await store.getExposure(ACCOUNT);
    expect([view.netLongUse, view.openReservations]).toEqual([1000, 0]);
  }, 240_000);

  it('near the daily-loss limit lets concurrent sells only flatten the position, and halts at the limit', async () => {
    const { store, handlers } = await containers({ MAX_DAILY_LOSS: '100' });
    // Day 1: long 10 at 100 on one container, then a loss of 85 on another: past 80% of the limit, REDUCING.
    await runConcurrently(handlers.slice(0, 1), [intent(T0, { qty: 10 })]);
    await runConcurrently(handlers.slice(1, 2), [intent(T0 + 1, { side: 'sell', decisionPrice: 15 })]);
    expect(await store.getDailyPnl(ACCOUNT, utcDay(T0))).toBe(-85);

    const sells = Array.from({ length: 20 }, (_, n) => intent(T0 + 10 + n, { side: 'sell' }));
    const buys = Array.from({ length: 8 }, (_, n) => intent(T0 + 100 + n));
    await runConcurrently(handlers, [...sells, ...buys]);
    const s = await statuses(store, sells);
    expect(s.filled).toHaveLength(9);
    expect(s.rejected.every((o) => /REDUCE_ONLY/.test(o?.rejectReason ?? ''))).toBe(true);
    expect((await statuses(store, buys)).rejected).toHaveLength(8);
    expect((await store.getPosition(ACCOUNT, 'BTC'))?.qty).toBe(0);

    // Day 2 starts from zero; a loss of 120 halts every order, reducing or not.
    const day2 = T0 + DAY_US;
    await runConcurrently(handlers.slice(2, 3), [intent(day2, { qty: 2 })]);
    await runConcurrently(handlers.slice(3, 4), [intent(day2 + 1, { side: 'sell', qty: 2, decisionPrice: 40 })]);
    expect(await store.getDailyPnl(ACCOUNT, utcDay(day2))).toBe(-120);
    const late = Array.from({ length: 12 }, (_, n) => intent(day2 + 10 + n, { side: n % 2 ? 'buy' : 'sell' }));
    await runConcurrently(handlers, late);
    const l = await statuses(store, late);
    expect(l.rejected).toHaveLength(12);
    expect(l.rejected.every((o) => /MAX_DAILY_LOSS/.test(o?.rejectReason ?? ''))).toBe(true);
  }, 240_000);
});
