export { buildAlgoplanes, defaultEntries, type AlgoplanesOptions, type AlgoplanesStacks } from './algoplanes.ts';
export { envConfig, hotPath, functionName, KAFKA_TOPICS, PLANES, METRICS_NAMESPACE, type EnvConfig, type EnvName, type HotPath, type PlaneName } from './config.ts';
export { NetworkStack } from './stacks/network.ts';
export { NatsMessagingStack, KafkaMessagingStack, kafkaResourceArn, kafkaClientStatements, natsUserData, NATS_SERVER_VERSION } from './stacks/messaging.ts';
export { StorageStack } from './stacks/storage.ts';
export { IngestionStack, streamMappingOptions } from './stacks/ingestion.ts';
export { PlanesStack, type HandlerEntries } from './stacks/planes.ts';
export { BacktestsStack, NIGHTLY_BACKTEST_INPUT } from './stacks/backtests.ts';
export { ObservabilityStack, PLANE_METRICS, planeMetric } from './stacks/observability.ts';
