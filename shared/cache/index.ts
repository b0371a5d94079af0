export { RedisCache, type CacheOptions, type CacheStatus, type StateParts } from './redis-cache.ts';
