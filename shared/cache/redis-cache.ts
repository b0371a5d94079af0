/**
 * Hot-path cache on Redis (ioredis): latest quote per symbol (TTL), position/exposure snapshots,
 * plane warm state (worker checkpoints) and rate counters. Commands fail fast while Redis is down
 * (no offline queue) so callers can fail safe instead of hanging; the client reconnects by itself and
 * `available` flips back when Redis returns.
 */
import { Redis } from 'ioredis';
import type { PortfolioSnapshot, Quote } from '../domain/index.ts';
import { TransientError, errorMessage } from '../util/errors.ts';

export interface CacheOptions {
  url: string;
  /** Key prefix so several accounts / test runs share one Redis. */
  prefix?: string;
  quoteTtlSeconds?: number;
  commandTimeoutMs?: number;
}

export type CacheStatus = 'up' | 'down';

/** Changes to a state's side hash (large collections written incrementally); `reset` rewrites it whole. */
export interface StateParts {
  readonly reset: boolean;
  readonly set: readonly (readonly [field: string, json: string])[];
  readonly del: readonly string[];
}

/** A state's side hashes by name; PARTS is the first (and the only one before others existed). */
export type StatePartsByHash = Readonly<Record<string, StateParts>>;
export const PARTS = 'parts';

export class RedisCache {
  readonly redis: Redis;
  private readonly prefix: string;
  private readonly quoteTtl: number;
  private status: CacheStatus = 'down';
  private readonly listeners = new Set<(s: CacheStatus) => void>();
  lastError = '';

  constructor(opts: CacheOptions) {
    this.prefix = opts.prefix ?? 'ap:';
    this.quoteTtl = opts.quoteTtlSeconds ?? 60;
    this.redis = new Redis(opts.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.commandTimeoutMs ?? 1_000,
      // Keep reconnecting forever, at most once a second: recovery must not need a restart.
      retryStrategy: (times) => Math.min(50 * times, 1_000),
    });
    this.redis.on('ready', () => this.setStatus('up'));
    this.redis.on('close', () => this.setStatus('down'));
    this.redis.on('error', (err) => (this.lastError = errorMessage(err)));
  }

  /** Connects once; a Redis that is down at startup is not fatal (the client keeps retrying). */
  async connect(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (err) {
      this.lastError = errorMessage(err);
    }
  }

  get available(): boolean {
    return this.status === 'up';
  }

  onStatus(fn: (s: CacheStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private setStatus(s: CacheStatus): void {
    if (s === this.status) return;
    this.status = s;
    for (const fn of this.listeners) fn(s);
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!this.available) throw new TransientError('CACHE_UNAVAILABLE', `redis unavailable (${what}): ${this.lastError || 'not connected'}`);
    try {
      return await fn();
    } catch (err) {
      throw new TransientError('CACHE_UNAVAILABLE', `redis ${what} failed: ${errorMessage(err)}`, err);
    }
  }

  private k(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  async setQuote(q: Quote): Promise<void> {
    await this.run('setQuote', () => this.redis.set(this.k('quote', q.symbol), JSON.stringify(q), 'EX', this.quoteTtl));
  }

  async getQuote(symbol: string): Promise<Quote | undefined> {
    const v = await this.run('getQuote', () => this.redis.get(this.k('quote', symbol)));
    return v === null ? undefined : (JSON.parse(v) as Quote);
  }

  async setPortfolio(s: PortfolioSnapshot): Promise<void> {
    await this.run('setPortfolio', () => this.redis.set(this.k('portfolio', s.accountId), JSON.stringify(s)));
  }

  async getPortfolio(accountId: string): Promise<PortfolioSnapshot | undefined> {
    const v = await this.run('getPortfolio', () => this.redis.get(this.k('portfolio', accountId)));
    return v === null ? undefined : (JSON.parse(v) as PortfolioSnapshot);
  }

  /** Warm state of a worker (plane snapshot); the caller validates it on restore. */
  async setState(name: string, state: unknown): Promise<void> {
    await this.run('setState', () => this.redis.set(this.k('state', name), JSON.stringify(state)));
  }

  /**
   * As setState, for a state the caller already serialised (to freeze it at a point in time), with
   * its side hash changed in the same MULTI so the two never disagree after a crash.
   */
  /** Writes a state and the changes to its side hashes in one transaction. */
  async setStateJson(name: string, json: string, hashes?: StatePartsByHash): Promise<void> {
    if (!hashes) {
      await this.run('setState', () => this.redis.set(this.k('state', name), json));
      return;
    }
    const tx = this.redis.multi().set(this.k('state', name), json);
    for (const [hashName, parts] of Object.entries(hashes)) {
      const hash = this.hashKey(name, hashName);
      if (parts.reset) tx.del(hash);
      if (parts.set.length > 0) tx.hset(hash, ...parts.set.flat());
      if (!parts.reset && parts.del.length > 0) tx.hdel(hash, ...parts.del);
    }
    const results = await this.run('setState', () => tx.exec());
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw new TransientError('CACHE_UNAVAILABLE', `redis setState transaction failed: ${errorMessage(failed?.[0] ?? 'aborted')}`);
  }

  /** One side hash written by setStateJson (field -> JSON text). */
  async getStateParts(name: string, hashName: string = PARTS): Promise<Record<string, string>> {
    return this.run('getStateParts', () => this.redis.hgetall(this.hashKey(name, hashName)));
  }

  private hashKey(name: string, hashName: string): string {
    return hashName === PARTS ? this.k('state-parts', name) : this.k(`state-${hashName}`, name);
  }

  async getState(name: string): Promise<unknown> {
    const v = await this.run('getState', () => this.redis.get(this.k('state', name)));
    return v === null ? undefined : (JSON.parse(v) as unknown);
  }

  async deleteState(name: string, hashNames: readonly string[] = [PARTS]): Promise<void> {
    await this.run('deleteState', () => this.redis.del(this.k('state', name), ...hashNames.map((h) => this.hashKey(name, h))));
  }

  /** Fixed-window counter: INCRBY, and EXPIRE when the window starts. Returns the count in this window. */
  async incrRate(name: string, windowSeconds: number, by = 1): Promise<number> {
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    const key = this.k('rate', name, String(window));
    const [[incrErr, count]] = (await this.run('incrRate', () => this.redis.multi().incrby(key, by).expire(key, windowSeconds * 2).exec())) ?? [[null, 0]];
    if (incrErr) throw new TransientError('CACHE_UNAVAILABLE', `redis incrRate failed: ${errorMessage(incrErr)}`, incrErr);
    return Number(count);
  }

  /** SET NX: true when this call claimed the key (first time seen). */
  async claim(name: string, ttlSeconds: number): Promise<boolean> {
    const r = await this.run('claim', () => this.redis.set(this.k('claim', name), '1', 'EX', ttlSeconds, 'NX'));
    return r === 'OK';
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.redis.disconnect();
  }
}
