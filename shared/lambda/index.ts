export { requireEnv, optionalEnv, positiveNumberEnv, jsonEnv } from './config.ts';
export {
  KinesisEventSchema,
  KafkaEventSchema,
  SqsEventSchema,
  parseStreamEvent,
  streamItems,
  sqsItems,
  parseJsonBody,
  traceIdOfEnvelope,
  type BatchItem,
  type KinesisEvent,
  type KafkaEvent,
  type SqsEvent,
  type StreamEvent,
} from './events.ts';
export { processBatch, type BatchItemFailure, type BatchResponse, type BatchSummary, type DeadLetterSink, type BatchOptions } from './batch.ts';
export { createObservability, secretRedactor, REDACTED, type Observability, type Plane, type MetricName } from './observability.ts';
export { planeHandler, validateEvent, mapErrors, idempotent, toAlgoplanesError, type PlaneHandlerOptions, type IdempotencyConfig } from './middleware.ts';
export { MARKET_SCHEMA_PREFIX, INTENT_SCHEMA, type IntentSender, type EventPublisher } from './senders.ts';
export { SqsDeadLetters, SqsIntentSender } from './sqs.ts';
export { KinesisPublisher } from './kinesis.ts';
