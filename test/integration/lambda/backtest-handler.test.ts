/**
 * The real backtest handler module (config from env at import) against DynamoDB Local and s3rver:
 * market data downloaded from the data bucket, report artefacts written to the results bucket, the
 * summary and idempotency record in the table.
 */
import { readFileSync } from 'node:fs';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoStore } from '../../../shared/store/index.ts';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../helpers/dynamodb-local.ts';
import { startS3Local, type S3Local } from '../../helpers/s3-local.ts';
import { lambdaContext } from './context.ts';

const RESULTS = 'results';
const DATA = 'market-data';
const DATA_KEY = 'daily/orcl-1995-2014_1d.csv';

type Response = { ok: boolean; runId?: string; artefacts?: string[]; metrics?: Record<string, number>; code?: string; message?: string };
type Handler = (event: unknown, context: ReturnType<typeof lambdaContext>) => Promise<Response>;

let ddb: DynamoDbLocal;
let s3: S3Local;
let store: DynamoStore;
let handler: Handler;

beforeAll(async () => {
  [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3Local()]);
  const table = await ddb.createTable();
  store = new DynamoStore({ tableName: table, client: ddb.client });
  await Promise.all([s3.createBucket(RESULTS), s3.createBucket(DATA)]);
  await s3.client.send(new PutObjectCommand({ Bucket: DATA, Key: DATA_KEY, Body: readFileSync('data/bars/orcl-1995-2014_1d.csv') }));
  const vars: Record<string, string> = {
    TABLE_NAME: table,
    RESULTS_BUCKET: RESULTS,
    DATA_BUCKET: DATA,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
  handler = ((await import('../../../functions/backtest/handler.ts')) as unknown as { handler: Handler }).handler;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([ddb?.stop(), s3?.stop()]);
});

async function object(key: string): Promise<{ body: string; type: string | undefined }> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: RESULTS, Key: key }));
  return { body: (await out.Body?.transformToString()) ?? '', type: out.ContentType };
}

describe('backtest handler', () => {
  it('reads the data from S3, writes report.json/html and fills.csv to the results bucket, and answers a repeat from the record', async () => {
    const request = { runId: 'orcl-sma', dataKey: DATA_KEY, strategy: 'sma-cross', params: { fast: 10, slow: 30 } };
    const out = await handler(request, lambdaContext('backtest', 900_000));
    expect(out.ok).toBe(true);
    const prefix = 'backtests/orcl-sma/';
    expect([...(out.artefacts ?? [])].sort()).toEqual([`${prefix}fills.csv`, `${prefix}report.html`, `${prefix}report.json`]);

    const report = await object(`${prefix}report.json`);
    expect(report.type).toBe('application/json');
    const parsed = JSON.parse(report.body) as { strategy: { name: string }; statistics: Record<string, unknown> };
    expect(parsed.strategy.name).toBe('sma-cross');
    const html = await object(`${prefix}report.html`);
    expect(html.type).toBe('text/html');
    expect(html.body).toMatch(/<html/i);
    const fills = await object(`${prefix}fills.csv`);
    expect(fills.type).toBe('text/csv');
    const lines = fills.body.trim().split('\n');
    expect(lines[0]).toBe('time,side,qty,price,fee');
    expect(lines.length).toBeGreaterThan(10);

    const summary = await store.getBacktestSummary('orcl-sma');
    expect(summary).toMatchObject({ strategy: 'sma-cross', source: DATA_KEY, artefacts: out.artefacts });
    expect(summary?.metrics).toEqual(out.metrics);

    // A repeated request is answered from the idempotency record: nothing is written again.
    await s3.client.send(new DeleteObjectCommand({ Bucket: RESULTS, Key: `${prefix}fills.csv` }));
    expect(await handler(request, lambdaContext('backtest', 900_000))).toEqual(out);
    await expect(object(`${prefix}fills.csv`)).rejects.toThrow(/NoSuchKey|does not exist/);
  }, 120_000);

  it('answers a missing data object with a non-retriable error naming the object', async () => {
    const out = await handler({ runId: 'missing', dataKey: 'daily/nope.csv', strategy: 'sma-cross' }, lambdaContext('backtest', 900_000));
    expect(out.ok).toBe(false);
    expect(out.code).toBe('S3_FAILED');
    expect(out.message).toMatch(/GetObject s3:\/\/market-data\/daily\/nope\.csv: NoSuchKey/);
    // Through shared/lambda/s3.ts: S3's status, and one attempt (a missing key is not retried).
    expect(out.message).toMatch(/\(HTTP 404\)$/);
  }, 60_000);
});
