/** Lambda entry: Kinesis MARKET_INGEST and MSK batches. Config is read once, at cold start. */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KinesisPublisher, SqsDeadLetters, createObservability, parseStreamEvent, planeHandler, requireEnv } from '../../shared/lambda/index.ts';
import { createDataApp } from './app.ts';

const obs = createObservability('data');
const app = createDataApp(
  {},
  {
    // PutRecords needs no HTTP/2 (only SubscribeToShard does); HTTP/1.1 keeps the cold start small.
    publisher: new KinesisPublisher({ client: new KinesisClient({ requestHandler: new NodeHttpHandler() }), streamName: requireEnv('MARKET_EVENTS_STREAM'), producer: 'data-function' }),
    dlq: new SqsDeadLetters({ client: new SQSClient({}), queueUrl: requireEnv('DLQ_URL'), producer: 'data-function', obs }),
    obs,
  },
);

export const handler = planeHandler({ obs, parse: parseStreamEvent, handle: (event) => app.handle(event) });
