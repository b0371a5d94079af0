export { RedisCache, type CacheOptions, type CacheStatus } from './redis-cache.ts';
