export { runBacktest } from './engine.ts';
export type { BacktestHooks, BacktestResult } from './engine.ts';
export { BacktestOptionsSchema, FillModel, SizingKind } from './options.ts';
export type { BacktestInput, BacktestOptions } from './options.ts';
export { InProcessBus } from './in-process-bus.ts';
