/**
 * The order worker in-process on the memory bus with a real redis-server: a fill, produced while a
 * later bar is applied, carries its intent's trace id (not the bar's), and LOG_LEVEL=debug writes one
 * line per emitted message with that trace id. Also: WORKER_HOST reaches the HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus, subjects, type BusMessage } from '../../../shared/bus/index.ts';
import { RedisCache } from '../../../shared/cache/index.ts';
import { makeEnvelope, type Bar, type OrderIntent } from '../../../shared/domain/index.ts';
import { riskLimitsFromEnv } from '../../../shared/order-plane/index.ts';
import { OrderWorker, WorkerRuntime, jsonLogger, parseWorkerEnv } from '../../../shared/workers/index.ts';
import { startRedisServer } from '../../helpers/redis-server.ts';

let redis: Awaited<ReturnType<typeof startRedisServer>>;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const T0 = 1_700_000_000_000_000;
const bar = (i: number): Bar => ({ kind: 'bar', symbol: 'BTC-PERP', ts: T0 + i * 60_000_000, intervalUs: 60_000_000, open: 100 + i, high: 101 + i, low: 99 + i, close: 100 + i, volume: 10 });

describe('order worker trace ids', () => {
  it('fills continue the trace of their intent and are logged at debug with trace_id', async () => {
    const lines: string[] = [];
    const runtime = new WorkerRuntime('order-worker', jsonLogger('order-worker', (l) => lines.push(l), 'debug'));
    const bus = new MemoryBus();
    const cache = new RedisCache({ url: redis.url, prefix: `trace-test-${Date.now()}:` });
    await cache.connect();
    const worker = new OrderWorker({ bus, runtime, cache, checkpointMs: 20 }, { accountId: 'acct', initialCash: 1_000_000 });
    const reports: { trace: string; status: string; fill: boolean }[] = [];
    await bus.subscribe('exec.reports.>', (m: BusMessage) => {
      const d = m.envelope.data as { order: { status: string }; fill?: unknown };
      reports.push({ trace: m.envelope.trace_id, status: d.order.status, fill: d.fill !== undefined });
    }, { durable: 'probe' });
    await worker.start();

    await bus.publish(subjects.marketEvents('BTC-PERP'), makeEnvelope('market.bar.v1', bar(0), { producer: 't', traceId: 'bar-0' }));
    const intent: OrderIntent = {
      clientOrderId: 'intent-trace-0001',
      accountId: 'acct',
      strategyId: 's',
      symbol: 'BTC-PERP',
      ts: T0 + 1,
      side: 'buy',
      qty: 1,
      type: 'market',
      timeInForce: 'GTC',
      decisionPrice: 100,
      reduceOnly: false,
      reason: '',
    };
    await bus.publish(subjects.intents('BTC-PERP'), makeEnvelope('orders.intent.v1', intent, { producer: 't', traceId: 'intent-trace' }));
    await until(() => reports.some((r) => r.status === 'accepted'), 'accepted report');
    // The fill happens on the next bar, whose own trace is bar-1.
    await bus.publish(subjects.marketEvents('BTC-PERP'), makeEnvelope('market.bar.v1', bar(1), { producer: 't', traceId: 'bar-1' }));
    await until(() => reports.some((r) => r.fill), 'fill report');

    expect(reports.filter((r) => r.fill).map((r) => r.trace)).toEqual(['intent-trace']);
    expect(reports.every((r) => r.trace === 'intent-trace')).toBe(true);
    const emitted = lines.map((l) => JSON.parse(l) as { level: string; msg: string; trace_id?: string; subject?: string }).filter((l) => l.msg === 'emitted' && l.subject?.startsWith('exec.reports.'));
    expect(emitted.length).toBe(reports.length);
    expect(emitted.every((l) => l.level === 'debug' && l.trace_id === 'intent-trace')).toBe(true);

    // A repeated intent is rejected as a duplicate, logged with the trace id it came with.
    await bus.publish(subjects.intents('BTC-PERP'), makeEnvelope('orders.intent.v1', intent, { producer: 't', traceId: 'intent-again' }));
    await until(() => lines.some((l) => l.includes('"DUPLICATE"')), 'duplicate logged');
    expect(JSON.parse(lines.find((l) => l.includes('"DUPLICATE"')) ?? '{}')).toMatchObject({ level: 'debug', msg: 'rejected', trace_id: 'intent-again' });

    await worker.stop();
    // Orders are checkpointed in the state's side hash (only changed ones are rewritten); a new worker restores them.
    expect(Object.keys(await cache.getStateParts('order-worker:acct'))).toEqual(['intent-trace-0001']);
    const restarted = new OrderWorker({ bus: new MemoryBus(), runtime: new WorkerRuntime('order-worker', jsonLogger('order-worker', () => undefined)), cache, checkpointMs: 20 }, { accountId: 'acct', initialCash: 1_000_000 });
    await restarted.restore();
    expect(restarted.plane.knownOrder('intent-trace-0001')?.status).toBe('filled');
    expect(restarted.plane.portfolio().positions.find((p) => p.symbol === 'BTC-PERP')?.qty).toBe(1);
    await bus.close();
    await cache.close();
  }, 30_000);

  it('publishes a refused intent as a risk notification and a rejected report, both continuing its trace', async () => {
    const bus = new MemoryBus();
    const cache = new RedisCache({ url: redis.url, prefix: `breach-test-${Date.now()}:` });
    await cache.connect();
    const runtime = new WorkerRuntime('order-worker', jsonLogger('order-worker', () => undefined));
    const worker = new OrderWorker({ bus, runtime, cache, checkpointMs: 20 }, { accountId: 'acct', initialCash: 1_000_000, limits: riskLimitsFromEnv({ RESTRICTED_SYMBOLS: 'BTC-PERP' }) });
    const seen: { subject: string; id: string; trace: string; data: unknown }[] = [];
    const probe = (m: BusMessage) => void seen.push({ subject: m.subject, id: m.envelope.id, trace: m.envelope.trace_id, data: m.envelope.data });
    await bus.subscribe('sys.notifications.>', probe, { durable: 'probe-n' });
    await bus.subscribe('exec.reports.>', probe, { durable: 'probe-r' });
    await worker.start();
    const intent: OrderIntent = { clientOrderId: 'intent-breach-01', accountId: 'acct', strategyId: 's', symbol: 'BTC-PERP', ts: T0, side: 'buy', qty: 1, type: 'market', timeInForce: 'GTC', decisionPrice: 100, reduceOnly: false, reason: '' };
    await bus.publish(subjects.intents('BTC-PERP'), makeEnvelope('orders.intent.v1', intent, { producer: 't', traceId: 'breach-trace' }));
    await until(() => seen.length >= 2, 'notification and report');
    expect(seen.map((m) => [m.subject, m.trace])).toEqual(
      expect.arrayContaining([
        [subjects.notifications('risk'), 'breach-trace'],
        [subjects.executions('BTC-PERP'), 'breach-trace'],
      ]),
    );
    expect(seen.find((m) => m.subject === subjects.notifications('risk'))?.data).toMatchObject({ clientOrderId: 'intent-breach-01' });
    expect(seen.find((m) => m.subject.startsWith('exec.'))?.data).toMatchObject({ order: { status: 'rejected' } });
    // Envelope ids are the outputs' dedup ids, so a replay re-emits the same envelopes.
    expect(seen.find((m) => m.subject.startsWith('exec.'))?.id).toBe('intent-breach-01:rejected:0');
    await worker.stop();
    await bus.close();
    await cache.close();
  }, 30_000);

  it('logs nothing per message above debug', async () => {
    const lines: string[] = [];
    const log = jsonLogger('x', (l) => lines.push(l), 'info');
    expect(log.enabled('debug')).toBe(false);
    log.log('debug', 'emitted', { trace_id: 't' });
    log.log('info', 'kept');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['kept']);
  });
});

describe('WORKER_HOST', () => {
  it('defaults to loopback and binds the HTTP server where it says', async () => {
    expect(parseWorkerEnv({}).WORKER_HOST).toBe('127.0.0.1');
    const env = parseWorkerEnv({ WORKER_HOST: '0.0.0.0' });
    const lines: string[] = [];
    const runtime = new WorkerRuntime('w', jsonLogger('w', (l) => lines.push(l)));
    const port = await runtime.listen(0, env.WORKER_HOST);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'http listening', host: '0.0.0.0', port });
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await runtime.stop('test');
  });
});
