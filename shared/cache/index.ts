export { RedisCache, type CacheOptions, type CacheStatus, type StateParts, type StatePartsByHash, PARTS } from './redis-cache.ts';
