/**
 * The order worker's incremental checkpoint (orders and the broker's bar ring in side hashes, only
 * changes written) against a real redis-server: a worker stopped partway and restored from Redis
 * makes the same fills as one that ran uninterrupted, its restored plane equals the one it saved,
 * and a checkpoint writes the bars added since the last one, not the whole ring. Enough bars that the
 * ring (4,096) wraps several times and enough orders that the dedup window (20,000) forgets some.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus, subjects, type BusMessage } from '../../../shared/bus/index.ts';
import { PARTS, RedisCache } from '../../../shared/cache/index.ts';
import { makeEnvelope, type Bar, type ExecutionReport, type OrderIntent } from '../../../shared/domain/index.ts';
import type { OrderPlaneState } from '../../../shared/order-plane/index.ts';
import { OrderWorker, WorkerRuntime, jsonLogger } from '../../../shared/workers/index.ts';
import { RING_CHUNK } from '../../../shared/workers/order-state.ts';
import { WORKER_BROKER_RING } from '../../../shared/workers/plane-config.ts';
import { startRedisServer } from '../../helpers/redis-server.ts';

let redis: Awaited<ReturnType<typeof startRedisServer>>;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const T0 = 1_700_000_000_000_000;
const SYMBOL = 'BTC-PERP';
const BARS = 26_000;
/** Where the second run stops and restarts: past the dedup window, so the checkpoint has forgotten orders too. */
const SPLIT = 22_000;

function bar(i: number): Bar {
  const p = 100 + 10 * Math.sin(i / 50) + (i % 7) * 0.1;
  return { kind: 'bar', symbol: SYMBOL, ts: T0 + i * 1_000_000, intervalUs: 1_000_000, open: p, high: p + 1, low: p - 1, close: p + 0.5, volume: 10 + (i % 5) };
}

/** One intent per bar, decided just after it, alternately buying and selling one unit. */
function intent(i: number): OrderIntent {
  const b = bar(i);
  return { clientOrderId: `ckpt-${String(i).padStart(8, '0')}`, accountId: 'acct', strategyId: 's', symbol: SYMBOL, ts: b.ts + 1, side: i % 2 === 0 ? 'buy' : 'sell', qty: 1, type: 'market', timeInForce: 'GTC', decisionPrice: b.close, reduceOnly: false, reason: '' };
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function newWorker(bus: MemoryBus, cache: RedisCache): OrderWorker {
  return new OrderWorker({ bus, runtime: new WorkerRuntime('order-worker', jsonLogger('order-worker', () => undefined)), cache, checkpointMs: 20 }, { accountId: 'acct', initialCash: 1_000_000 });
}

/** Publishes bars and intents [from, to) and waits until the worker has applied them all. */
async function feed(bus: MemoryBus, worker: OrderWorker, from: number, to: number): Promise<void> {
  const handled = () => worker.plane.counts().accepted + worker.plane.counts().rejected;
  const before = handled();
  for (let i = from; i < to; i++) {
    await bus.publish(subjects.marketEvents(SYMBOL), makeEnvelope('market.bar.v1', bar(i), { producer: 't' }));
    await bus.publish(subjects.intents(SYMBOL), makeEnvelope('orders.intent.v1', intent(i), { producer: 't' }));
  }
  await until(() => handled() - before === to - from && worker.plane.counts().fills === to - 1, `bars and intents ${from}..${to - 1} applied`);
}

/** A bus, a cache of its own, and the fills reported on that bus. */
async function setup(name: string): Promise<{ bus: MemoryBus; cache: RedisCache; fills: string[] }> {
  const bus = new MemoryBus();
  const cache = new RedisCache({ url: redis.url, prefix: `ckpt-${name}-${Date.now()}:` });
  await cache.connect();
  const fills: string[] = [];
  await bus.subscribe(
    'exec.reports.>',
    (m: BusMessage) => {
      const r = m.envelope.data as ExecutionReport;
      if (r.fill) fills.push(`${r.fill.clientOrderId} ${r.fill.ts} ${r.fill.qty}@${r.fill.price}`);
    },
    { durable: 'probe' },
  );
  return { bus, cache, fills };
}

/** The plane's state without the broker's event numbering (it restarts from the restored ring). */
function comparable(s: OrderPlaneState): unknown {
  return { ...s, broker: { ...s.broker, symbols: s.broker.symbols.map(({ pushed: _pushed, ...x }: OrderPlaneState['broker']['symbols'][number] & { pushed?: number }) => x) } };
}

describe('order worker checkpoint in parts', () => {
  it('restores to the saved state and then fills exactly as an uninterrupted run', async () => {
    const straightRun = await setup('straight');
    const straight = newWorker(straightRun.bus, straightRun.cache);
    await straight.start();
    await feed(straightRun.bus, straight, 0, BARS);
    await straight.stop();

    const { bus, cache, fills } = await setup('restart');
    const first = newWorker(bus, cache);
    await first.start();
    await feed(bus, first, 0, SPLIT);
    await first.stop();
    const saved = first.plane.snapshot();
    // The last intent is still working: it fills on the first bar after the restart.
    expect(saved.broker.working).toHaveLength(1);
    expect(saved.orders.length).toBe(20_001); // the dedup window of finished orders and the working one

    // What Redis holds: no bars in the state itself, the ring in a few chunks, one field per remembered order.
    const stateJson = JSON.stringify(await cache.getState('order-worker:acct'));
    expect(stateJson.length).toBeLessThan(20_000);
    const ringFields = Object.keys(await cache.getStateParts('order-worker:acct', 'ring'));
    expect(ringFields.length).toBeLessThanOrEqual(WORKER_BROKER_RING / RING_CHUNK + 1);
    expect(Object.keys(await cache.getStateParts('order-worker:acct', PARTS)).length).toBe(saved.orders.length);

    const second = newWorker(bus, cache);
    await second.restore();
    expect(comparable(second.plane.snapshot())).toEqual(comparable(saved));
    await second.start();
    await feed(bus, second, SPLIT, BARS);
    await second.stop();

    // The probe is delivered to in its own time.
    await until(() => fills.length === BARS - 1 && straightRun.fills.length === BARS - 1, 'every fill report');
    expect(fills).toEqual(straightRun.fills);
    expect(second.plane.portfolio()).toEqual(straight.plane.portfolio());
    await Promise.all([bus.close(), straightRun.bus.close(), cache.close(), straightRun.cache.close()]);
  }, 120_000);
});
