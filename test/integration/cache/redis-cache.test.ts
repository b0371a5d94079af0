import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus, subjects } from '../../../shared/bus/index.ts';
import { RedisCache } from '../../../shared/cache/index.ts';
import { clientOrderId, makeEnvelope, type Bar, type ExecutionReport, type OrderIntent } from '../../../shared/domain/index.ts';
import { riskLimits } from '../../../shared/order-plane/index.ts';
import { OrderWorker } from '../../../shared/workers/order-worker.ts';
import { WorkerRuntime } from '../../../shared/workers/runtime.ts';
import { startRedisServer } from '../../helpers/redis-server.ts';

type Redis = Awaited<ReturnType<typeof startRedisServer>>;
let redis: Redis;

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe('RedisCache', () => {
  it('keeps latest quotes with a TTL, snapshots, warm state, rate counters and SET NX claims', async () => {
    const cache = new RedisCache({ url: redis.url, prefix: 't1:', quoteTtlSeconds: 1 });
    await cache.connect();
    await until(() => cache.available, 'redis up');
    await cache.setQuote({ kind: 'quote', symbol: 'BTC', ts: 1_700_000_000_000_000, bid: 100, ask: 101 });
    expect(await cache.getQuote('BTC')).toMatchObject({ bid: 100, ask: 101 });
    expect(await cache.redis.ttl('t1:quote:BTC')).toBeGreaterThan(0);
    await until(async () => (await cache.getQuote('BTC')) === undefined, 'quote TTL expiry', 5_000);

    await cache.setState('w', { a: [1, 2] });
    expect(await cache.getState('w')).toEqual({ a: [1, 2] });
    expect(await cache.getState('missing')).toBeUndefined();

    const counts = [await cache.incrRate('orders', 60), await cache.incrRate('orders', 60), await cache.incrRate('orders', 60)];
    expect(counts[2] - counts[0]).toBe(2);
    const rateKeys = await cache.redis.keys('t1:rate:orders:*');
    expect(await cache.redis.ttl(rateKeys[0])).toBeGreaterThan(0);

    expect(await cache.claim('coid-1', 60)).toBe(true);
    expect(await cache.claim('coid-1', 60)).toBe(false);
    await cache.close();
  });
});

describe('order worker fail-safe on Redis loss', () => {
  it('rejects risk-increasing orders with EXPOSURE_UNKNOWN while Redis is down, reports degraded, and recovers by itself', async () => {
    const bus = new MemoryBus();
    const logs: string[] = [];
    const runtime = new WorkerRuntime('order-worker', { enabled: () => true, log: (level, msg, fields) => logs.push(JSON.stringify({ level, msg, ...fields })) });
    const cache = new RedisCache({ url: redis.url, prefix: 't2:', commandTimeoutMs: 300 });
    await cache.connect();
    const worker = new OrderWorker({ bus, runtime, cache, checkpointMs: 20 }, { accountId: 'acct', initialCash: 1_000_000, limits: riskLimits({}) });
    await worker.start();
    const reports: ExecutionReport[] = [];
    await bus.subscribe('exec.reports.>', (m) => void reports.push(m.envelope.data as ExecutionReport));

    let ts = 1_700_000_000_000_000;
    const bar = async (): Promise<void> => {
      ts += 60_000_000;
      const b: Bar = { kind: 'bar', symbol: 'BTC', ts, intervalUs: 60_000_000, open: 100, high: 101, low: 99, close: 100, volume: 10 };
      await bus.publish(subjects.marketEvents('BTC'), makeEnvelope('market.bar.v1', b, { producer: 't' }));
    };
    const intent = async (side: 'buy' | 'sell'): Promise<string> => {
      const i: OrderIntent = {
        clientOrderId: clientOrderId({ accountId: 'acct', strategyId: 's', symbol: 'BTC', ts, side, qty: 1 }),
        accountId: 'acct', strategyId: 's', symbol: 'BTC', ts, side, qty: 1, type: 'market', timeInForce: 'GTC', decisionPrice: 100, reduceOnly: false, reason: '',
      };
      await bus.publish(subjects.intents('BTC'), makeEnvelope('orders.intent.v1', i, { producer: 't' }));
      return i.clientOrderId;
    };
    const statusOf = (id: string) => reports.filter((r) => r.order.clientOrderId === id).map((r) => r.order.status);

    await bar();
    const first = await intent('buy');
    await bar();
    await until(() => statusOf(first).includes('filled'), 'first buy filled');
    expect(runtime.health().status).toBe('ok');

    const port = redis.port;
    await redis.stop();
    await until(() => !cache.available, 'cache to notice redis is gone');
    expect(runtime.health()).toMatchObject({ status: 'degraded', checks: [{ name: 'redis', status: 'degraded' }] });

    const risky = await intent('buy');
    await until(() => statusOf(risky).length > 0, 'risky intent answered');
    const rejected = reports.find((r) => r.order.clientOrderId === risky);
    expect(rejected?.order.status).toBe('rejected');
    expect(rejected?.order.rejectReason).toMatch(/^EXPOSURE_UNKNOWN/);

    // Reducing the existing long is still allowed: it can only lower exposure.
    await bar();
    const reducing = await intent('sell');
    await bar();
    await until(() => statusOf(reducing).includes('filled'), 'reducing sell filled');

    redis = await startRedisServer({ port });
    await until(() => cache.available, 'cache to reconnect by itself', 20_000);
    expect(runtime.health().status).toBe('ok');
    await bar();
    const after = await intent('buy');
    await bar();
    await until(() => statusOf(after).includes('filled'), 'buy after recovery filled');
    // Held acks were released by a checkpoint that reached the restarted Redis.
    await until(async () => (await cache.getState('order-worker:acct').catch(() => undefined)) !== undefined, 'checkpoint saved after recovery');
    expect(logs.some((l) => l.includes('checkpoint failed'))).toBe(true);

    await worker.stop();
    await bus.close();
    await cache.close();
  }, 60_000);
});
