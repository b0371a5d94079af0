/**
 * End to end over a real nats-server and redis-server: replay real BTC-perp 1-minute bars through
 * three worker processes (data -> strategy -> order) and require exactly the fills of the
 * in-process backtest of the same data and strategy. Then kill -9 the order worker mid-run and
 * restart it: still the same fills, no order lost, none duplicated.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../../shared/backtest/index.ts';
import { NatsBus, applyNats, loadNatsConfig } from '../../shared/bus/index.ts';
import type { ExecutionReport, Fill } from '../../shared/domain/index.ts';
import { publishMarketSource } from '../../shared/workers/replay.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { countEnvelopes, readExecutions, sliceCsv, spawnWorker, stopWorker, waitForLog, type WorkerProcess } from './helpers.ts';

const BARS = 'data/bars/btc-perp-2022-01_1m.csv';
const ROWS = 3_000;

type Servers = { nats: Awaited<ReturnType<typeof startNatsServer>>; redis: Awaited<ReturnType<typeof startRedisServer>> };
let servers: Servers;
let bus: NatsBus;
let dir: string;
let workers: WorkerProcess[] = [];

const fillKey = (f: Fill) => `${f.execId}|${f.side}|${f.qty}|${f.price}|${f.ts}`;

beforeEach(async () => {
  servers = { nats: await startNatsServer(), redis: await startRedisServer() };
  bus = await NatsBus.connect({ url: servers.nats.url, name: 'e2e' });
  await applyNats(bus.jsm, loadNatsConfig('local/nats'));
  dir = mkdtempSync(join(tmpdir(), 'algoplanes-e2e-'));
});

afterEach(async () => {
  for (const w of workers) {
    if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
  workers = [];
  await bus?.close();
  await servers?.nats.stop();
  await servers?.redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return { BUS: 'nats', NATS_URL: servers.nats.url, REDIS_URL: servers.redis.url, WORKER_PORT: '0', STRATEGY: 'sma-cross', ORDER_QTY: '1' };
}

async function start(kind: 'data' | 'strategy' | 'order'): Promise<WorkerProcess> {
  const w = spawnWorker(kind, env());
  workers.push(w);
  await waitForLog(w, '"worker started"', 60_000);
  return w;
}

/** Waits until the fills in EXECUTIONS stop changing and reach `expected`. */
async function settledFills(reference: readonly Fill[], timeoutMs: number): Promise<ExecutionReport[]> {
  const expected = reference.length;
  const deadline = Date.now() + timeoutMs;
  let reports: ExecutionReport[] = [];
  for (;;) {
    reports = await readExecutions(bus);
    if (reports.filter((r) => r.fill).length >= expected) {
      await new Promise((r) => setTimeout(r, 1_000));
      return readExecutions(bus);
    }
    if (Date.now() > deadline) {
      const got = new Set(reports.flatMap((r) => (r.fill ? [fillKey(r.fill)] : [])));
      const missing = reference.filter((f) => !got.has(fillKey(f))).map(fillKey);
      const last = reports.slice(-4).map((r) => JSON.stringify(r.order));
      throw new Error(`only ${got.size}/${expected} fills after ${timeoutMs} ms; missing ${missing.join(', ')}; last reports ${last.join('\n')}\n${workers.map((w) => `--- ${w.kind}\n${w.output().slice(-3_000)}`).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function assertNoLossNoDuplicates(reports: ExecutionReport[], reference: readonly Fill[]): void {
  const byStatus = new Map<string, number>();
  for (const r of reports) {
    const k = `${r.order.clientOrderId}|${r.order.status}|${r.order.filledQty}`;
    byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
  }
  expect([...byStatus.entries()].filter(([, n]) => n > 1)).toEqual([]);
  const accepted = reports.filter((r) => r.order.status === 'accepted').map((r) => r.order.clientOrderId);
  const refOrders = [...new Set(reference.map((f) => f.clientOrderId))];
  expect(accepted.sort()).toEqual(refOrders.sort());
  expect(reports.filter((r) => r.order.status === 'rejected')).toEqual([]);
}

describe('workers over NATS match the in-process backtest', () => {
  it('replays real bars through data, strategy and order workers with identical fills', async () => {
    const slice = sliceCsv(BARS, dir, ROWS);
    const reference = (await runBacktest({ dataPath: slice, strategy: 'sma-cross', quantity: 1 })).fills;
    expect(reference.length).toBeGreaterThan(20);

    await start('order');
    await start('strategy');
    await start('data');
    const replay = await publishMarketSource(bus, slice, { speed: 'max' });
    expect(replay.published).toBe(ROWS);
    // Every bar stored once, packed several per message on the hot path.
    const raw = await countEnvelopes(bus, 'MARKET', 'md.raw.');
    expect(raw.envelopes).toBe(ROWS);
    expect(raw.messages).toBeLessThan(ROWS / 100);

    const reports = await settledFills(reference, 90_000);
    const fills = reports.flatMap((r) => (r.fill ? [r.fill] : []));
    expect(fills.map(fillKey)).toEqual(reference.map(fillKey));
    assertNoLossNoDuplicates(reports, reference);

    for (const w of workers) expect(await stopWorker(w)).toBe(0);
  }, 180_000);

  it('survives kill -9 of the order worker mid-run: no lost and no duplicated orders', async () => {
    const slice = sliceCsv(BARS, dir, ROWS);
    const reference = (await runBacktest({ dataPath: slice, strategy: 'sma-cross', quantity: 1 })).fills;

    let order = await start('order');
    await start('strategy');
    await start('data');
    // ~6 s of wall time for 3,000 one-minute bars, so the kill lands mid-stream.
    const replaying = publishMarketSource(bus, slice, { speed: 30_000 });
    const deadline = Date.now() + 30_000;
    while ((await readExecutions(bus)).filter((r) => r.fill).length < reference.length / 4) {
      if (Date.now() > deadline) throw new Error(`no progress before the kill\n${order.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    order.child.kill('SIGKILL');
    await order.exited;
    const filledAtKill = (await readExecutions(bus)).filter((r) => r.fill).length;
    expect(filledAtKill).toBeLessThan(reference.length);

    order = await start('order');
    await replaying;
    const reports = await settledFills(reference, 120_000);
    const fills = reports.flatMap((r) => (r.fill ? [r.fill] : []));
    expect(fills.map(fillKey)).toEqual(reference.map(fillKey));
    assertNoLossNoDuplicates(reports, reference);
    expect(order.output()).toContain('state restored');
    // Reports the crashed worker had published after its checkpoint were read back, not packed anew.
    expect(order.output()).toContain('reports already published since the checkpoint');
  }, 240_000);
});
