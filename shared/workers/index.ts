export { runWorker, WORKER_KINDS, type WorkerKind, type RunningWorker } from './run.ts';
export { WORKER_ENV, parseWorkerEnv, LOCAL_ENDPOINTS, type WorkerEnv } from './env.ts';
export { connectBus } from './connect.ts';
export { WorkerRuntime, WorkerMetrics, jsonLogger, type Logger, type HealthCheck } from './runtime.ts';
export { Checkpointer } from './checkpoint.ts';
export { OrderWorker, type OrderWorkerOptions } from './order-worker.ts';
export { StrategyWorker, type StrategyWorkerOptions } from './strategy-worker.ts';
export { DataWorker } from './data-worker.ts';
export { publishMarketSource, runSyntheticFeed, syntheticBars, type ReplayOptions, type ReplayStats, type SyntheticFeedOptions } from './replay.ts';
