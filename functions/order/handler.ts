/** Lambda entry: SQS FIFO INTENTS (ReportBatchItemFailures). Config is read once, at cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetters, SqsEventSchema, createObservability, planeHandler, positiveNumberEnv, requireEnv } from '../../shared/lambda/index.ts';
import { parseOrThrow } from '../../shared/domain/index.ts';
import { riskLimitsFromEnv } from '../../shared/order-plane/index.ts';
import { DynamoStore } from '../../shared/store/index.ts';
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { createOrderApp } from './app.ts';

const obs = createObservability('order');
const store = new DynamoStore({ tableName: requireEnv('TABLE_NAME'), client: new DynamoDBClient({}) });
const dlq = new SqsDeadLetters({ client: new SQSClient({}), queueUrl: requireEnv('DLQ_URL'), producer: 'order-function', obs });
const app = createOrderApp(
  {
    accountId: requireEnv('ACCOUNT_ID'),
    limits: riskLimitsFromEnv(),
    initialCash: positiveNumberEnv('INITIAL_CASH', DEFAULTS.backtest.cash),
    leaseMs: positiveNumberEnv('ORDER_LEASE_MS', 5 * 60_000),
  },
  { store, dlq, obs },
);

export const handler = planeHandler({
  obs,
  parse: (raw) => parseOrThrow(SqsEventSchema, raw, 'order function event'),
  handle: (event) => app.handle(event),
});
