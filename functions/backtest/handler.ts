/** Lambda entry: EventBridge Scheduler and on-demand invokes. Config is read once, at cold start. */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// The modules themselves, not the shared/lambda barrel: it re-exports the Kinesis and SQS senders, and
// esbuild keeps an external module's require even when nothing from it is used (~8 ms of cold init).
import { optionalEnv, requireEnv } from '../../shared/lambda/config.ts';
import { planeHandler } from '../../shared/lambda/middleware.ts';
import { createObservability } from '../../shared/lambda/observability.ts';
import { DynamoStore, awsError } from '../../shared/store/index.ts';
import { createBacktestApp, parseBacktestEvent, type BacktestResponse } from './app.ts';

const obs = createObservability('backtest');
const s3 = new S3Client({});
const resultsBucket = requireEnv('RESULTS_BUCKET');
const dataBucket = optionalEnv('DATA_BUCKET', resultsBucket);
const store = new DynamoStore({ tableName: requireEnv('TABLE_NAME'), client: new DynamoDBClient({}) });

const app = createBacktestApp({
  store,
  obs,
  artefacts: {
    async download(key, file) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: dataBucket, Key: key }));
        await pipeline(out.Body as Readable, createWriteStream(file));
      } catch (err) {
        throw awsError('S3', `GetObject s3://${dataBucket}/${key}`, err);
      }
    },
    async upload(key, body, contentType) {
      try {
        await s3.send(new PutObjectCommand({ Bucket: resultsBucket, Key: key, Body: body, ContentType: contentType }));
      } catch (err) {
        throw awsError('S3', `PutObject s3://${resultsBucket}/${key}`, err);
      }
    },
  },
});

export const handler = planeHandler<ReturnType<typeof parseBacktestEvent>, BacktestResponse>({
  obs,
  parse: parseBacktestEvent,
  handle: (req) => app.handle(req),
  idempotency: { store, keyOf: (req) => `backtest:${req.runId}`, leaseMs: 15 * 60_000, ttlSeconds: 7 * 86_400 },
  respondToError: (err) => ({ ok: false, code: err.code, message: err.message }),
});
