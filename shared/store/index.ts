export type * from './port.ts';
export { MemoryStore } from './memory.ts';
export { DynamoStore, type DynamoStoreOptions } from './dynamodb.ts';
export { applyFillToPosition } from './position.ts';
export { storeError, awsError } from './errors.ts';
export { BacktestSummarySchema, RiskLimitsRecordSchema, type BacktestSummary, type RiskLimitsRecord } from './schemas.ts';
