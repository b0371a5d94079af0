/**
 * The deployed artefact, not the TypeScript: the order and backtest handlers bundled with the planes
 * stack's options (infra/bundling.ts: the SDK's ES-module build, tree-shaken, inside the bundle) and
 * required as Lambda requires them, serving requests against DynamoDB Local, local SQS and s3rver.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planeEsbuildOptions } from '../../../infra/bundling.ts';
import { clientOrderId, makeEnvelope, type OrderIntent } from '../../../shared/domain/index.ts';
import { INTENT_SCHEMA } from '../../../shared/lambda/index.ts';
import { DynamoStore } from '../../../shared/store/index.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../helpers/dynamodb-local.ts';
import { startS3Local, type S3Local } from '../../helpers/s3-local.ts';
import { startSqsLocal, toSqsRecords, type SqsLocal } from '../../helpers/sqs-local.ts';
import { lambdaContext } from './context.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
// Inside node_modules, as in the bench, so what a bundle leaves external (credential providers, or the SDK) resolves.
const OUT = join(ROOT, 'node_modules', '.algoplanes-test-bundles');

let ddb: DynamoDbLocal;
let sqs: SqsLocal;
let s3: S3Local;
let store: DynamoStore;

async function bundle(plane: 'order' | 'backtest'): Promise<string> {
  const outfile = join(OUT, `${plane}-${process.pid}.cjs`);
  await build({ ...planeEsbuildOptions(plane, 'node20'), sourcemap: false, entryPoints: [join(ROOT, 'functions', plane, 'handler.ts')], outfile });
  return outfile;
}

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  [ddb, sqs, s3] = await Promise.all([startDynamoDbLocal(), startSqsLocal(), startS3Local()]);
  const table = await ddb.createTable();
  store = new DynamoStore({ tableName: table, client: ddb.client });
  await s3.createBucket('results');
  const vars: Record<string, string> = {
    TABLE_NAME: table,
    DLQ_URL: await sqs.createQueue('dlq'),
    ACCOUNT_ID: 'paper-1',
    RESULTS_BUCKET: 'results',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
}, 120_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  rmSync(OUT, { recursive: true, force: true });
  await Promise.all([ddb?.stop(), sqs?.stop(), s3?.stop()]);
});

describe('bundled handlers', () => {
  it('order: serves an SQS intent through the bundled DynamoDB and SQS clients', async () => {
    const { handler } = createRequire(import.meta.url)(await bundle('order')) as { handler: (e: SQSEvent, c: unknown) => Promise<{ batchItemFailures: unknown[] }> };
    const base = { accountId: 'paper-1', strategyId: 'sma-cross', symbol: 'BTC', ts: 1_700_000_000_000_000, side: 'buy' as const, qty: 2 };
    const intent: OrderIntent = { ...base, clientOrderId: clientOrderId(base), type: 'market', timeInForce: 'GTC', decisionPrice: 100, reduceOnly: false, reason: 'test' };
    const [record] = toSqsRecords([{ MessageId: 'm-1', ReceiptHandle: 'r-1', Body: JSON.stringify(makeEnvelope(INTENT_SCHEMA, intent, { producer: 'test' })) }], 'arn:aws:sqs:us-east-1:123456789012:intents.fifo');
    const out = await handler({ Records: [{ ...record, attributes: { ...record.attributes, MessageGroupId: 'paper-1#BTC' } }] }, lambdaContext('order'));
    expect(out.batchItemFailures).toEqual([]);
    expect((await store.getOrder('paper-1', intent.clientOrderId))?.order).toMatchObject({ status: 'filled', filledQty: 2 });
    expect((await store.getPosition('paper-1', 'BTC'))?.qty).toBe(2);
  }, 120_000);

  it('backtest: reads its data from S3 and writes the report through S3 with the SDK left external, as in Lambda', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: 'results', Key: 'data/orcl.csv', Body: readFileSync(join(ROOT, 'data/bars/orcl-1995-2014_1d.csv')) }));
    const { handler } = createRequire(import.meta.url)(await bundle('backtest')) as { handler: (e: unknown, c: unknown) => Promise<{ ok: boolean; artefacts?: string[] }> };
    const out = await handler({ runId: 'bundled', dataKey: 'data/orcl.csv', strategy: 'sma-cross' }, lambdaContext('backtest', 900_000));
    expect(out).toMatchObject({ ok: true, artefacts: ['backtests/bundled/report.json', 'backtests/bundled/report.html', 'backtests/bundled/fills.csv'] });
    expect((await store.getBacktestSummary('bundled'))?.source).toBe('data/orcl.csv');
  }, 120_000);
});
