export type { BatchPublishOptions, Bus, BusMessage, MessageHandler, PublishItem, PublishOptions, SubscribeOptions, Subscription } from './types.ts';
export { MemoryBus } from './memory.ts';
export { NatsBus, type NatsBusOptions } from './nats.ts';
export { KafkaBus, type KafkaBusOptions } from './kafka.ts';
export { FAMILIES, KAFKA_TOPICS, subjects, allOf, escapeToken, unescapeToken, familyOf, kafkaAddress, subjectMatches, type Family } from './subjects.ts';
export { withRetry, RetriesExhaustedError, type RetryOptions } from './retry.ts';
export { DeadLetterSchema, DEAD_LETTER_SCHEMA, MAX_REDELIVERIES, OUTPUT_LOST, publishDeadLetter, type DeadLetter } from './dlq.ts';
export { decodeEnvelopes, encodeEnvelope, type DecodedElement } from './codec.ts';
export { MAX_PACK } from './pack.ts';
export {
  applyNats,
  applyKafka,
  listNats,
  infoNats,
  loadNatsConfig,
  loadKafkaTopics,
  differingFields,
  DEFAULT_NATS_DIR,
  DEFAULT_KAFKA_FILE,
  type ApplyResult,
  type KafkaTopicSpec,
  type NatsDesiredState,
  type StreamSummary,
} from './provision.ts';
