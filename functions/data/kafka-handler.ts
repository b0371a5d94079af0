/**
 * Lambda entry on the kafka hot path: MSK md.raw batches -> md.events on the same cluster. A
 * separate entry from handler.ts (Kinesis in, Kinesis out) so neither bundle carries the other's
 * client. Config is read once, at cold start; the producer connects on the first batch.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
// Modules, not the shared/lambda barrel: the barrel would also load the Kinesis client this function never uses.
import { optionalEnv, requireEnv } from '../../shared/lambda/config.ts';
import { parseStreamEvent } from '../../shared/lambda/events.ts';
import { planeHandler } from '../../shared/lambda/middleware.ts';
import { createObservability } from '../../shared/lambda/observability.ts';
import { SqsDeadLetters } from '../../shared/lambda/sqs.ts';
import { KafkaPublisher, kafkaClient } from '../../shared/lambda/kafka.ts';
import { ConfigError } from '../../shared/util/errors.ts';
import { createDataApp } from './app.ts';

const obs = createObservability('data');
const sqs = new SQSClient({});
const auth = optionalEnv('KAFKA_AUTH', 'iam');
if (auth !== 'iam' && auth !== 'none') throw new ConfigError(`environment variable KAFKA_AUTH must be 'iam' or 'none', got '${auth}'`);
const kafka = kafkaClient({
  brokers: requireEnv('KAFKA_BROKERS').split(','),
  clientId: 'data-function',
  auth,
  region: requireEnv('AWS_REGION'),
  // The SDK's provider chain (in Lambda: the function role's session from the environment).
  credentials: () => sqs.config.credentials(),
});
const app = createDataApp(
  {},
  {
    publisher: new KafkaPublisher({ kafka, producer: 'data-function' }),
    dlq: new SqsDeadLetters({ client: sqs, queueUrl: requireEnv('DLQ_URL'), producer: 'data-function', obs }),
    obs,
  },
);

export const handler = planeHandler({ obs, parse: parseStreamEvent, handle: (event) => app.handle(event) });
