/** Lambda entry: EventBridge Scheduler and on-demand invokes. Config is read once, at cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
// The modules themselves, not the shared/lambda barrel: it re-exports the Kinesis and SQS senders, and
// esbuild keeps an external module's require even when nothing from it is used (~8 ms of cold init).
import { optionalEnv, requireEnv } from '../../shared/lambda/config.ts';
import { planeHandler } from '../../shared/lambda/middleware.ts';
import { createObservability } from '../../shared/lambda/observability.ts';
import { S3ObjectClient } from '../../shared/lambda/s3.ts';
import { DynamoStore } from '../../shared/store/index.ts';
import { createBacktestApp, parseBacktestEvent, type BacktestResponse } from './app.ts';

const obs = createObservability('backtest');
const resultsBucket = requireEnv('RESULTS_BUCKET');
const dataBucket = optionalEnv('DATA_BUCKET', resultsBucket);
const dynamo = new DynamoDBClient({});
const store = new DynamoStore({ tableName: requireEnv('TABLE_NAME'), client: dynamo });
// Not @aws-sdk/client-s3: loading it was ~30 ms of cold init for two calls. Region and credentials
// come from the DynamoDB client's provider chain (in Lambda, the role's session); the endpoint
// variables are the SDK's own, so s3rver/MinIO/LocalStack are configured as for an S3Client.
const s3 = new S3ObjectClient({
  region: () => dynamo.config.region(),
  credentials: () => dynamo.config.credentials(),
  endpoint: process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL,
});

const app = createBacktestApp({
  store,
  obs,
  artefacts: {
    download: (key, file) => s3.getObjectToFile(dataBucket, key, file),
    upload: (key, body, contentType) => s3.putObject(resultsBucket, key, body, contentType),
  },
});

export const handler = planeHandler<ReturnType<typeof parseBacktestEvent>, BacktestResponse>({
  obs,
  parse: parseBacktestEvent,
  handle: (req) => app.handle(req),
  idempotency: { store, keyOf: (req) => `backtest:${req.runId}`, leaseMs: 15 * 60_000, ttlSeconds: 7 * 86_400 },
  respondToError: (err) => ({ ok: false, code: err.code, message: err.message }),
});
