export * from './numbers.ts';
export * from './market.ts';
export * from './trading.ts';
export * from './system.ts';
export * from './envelope.ts';
export * from './ids.ts';
export * from './time.ts';
