/** Lambda entry: Kinesis MARKET_EVENTS and MSK batches. Config is read once, at cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { parseOrThrow } from '../../shared/domain/index.ts';
import { SqsDeadLetters, SqsIntentSender, createObservability, jsonEnv, optionalEnv, parseStreamEvent, planeHandler, requireEnv } from '../../shared/lambda/index.ts';
import { SizingConfigSchema, type ParamValue } from '../../shared/strategy-plane/index.ts';
import { DynamoStore } from '../../shared/store/index.ts';
import * as z from 'zod';
import { createStrategyApp } from './app.ts';

const obs = createObservability('strategy');
const sqs = new SQSClient({});
const app = createStrategyApp(
  {
    accountId: requireEnv('ACCOUNT_ID'),
    strategy: optionalEnv('STRATEGY', DEFAULTS.backtest.strategy),
    params: parseOrThrow(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])), jsonEnv('STRATEGY_PARAMS', {}), 'STRATEGY_PARAMS') as Record<string, ParamValue>,
    sizing: parseOrThrow(SizingConfigSchema, jsonEnv('SIZING', { kind: DEFAULTS.backtest.sizing, qty: DEFAULTS.backtest.quantity }), 'SIZING'),
  },
  {
    store: new DynamoStore({ tableName: requireEnv('TABLE_NAME'), client: new DynamoDBClient({}) }),
    intents: new SqsIntentSender({ client: sqs, queueUrl: requireEnv('INTENTS_QUEUE_URL'), producer: 'strategy-function' }),
    dlq: new SqsDeadLetters({ client: sqs, queueUrl: requireEnv('DLQ_URL'), producer: 'strategy-function', obs }),
    obs,
  },
);

export const handler = planeHandler({ obs, parse: parseStreamEvent, handle: (event) => app.handle(event) });
