import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { makeEnvelope, type Bar } from '../../../shared/domain/index.ts';
import { ValidationError } from '../../../shared/util/errors.ts';
import { NatsBus, subjects, type PublishItem } from '../../../shared/bus/index.ts';
import { startNatsServer } from '../../helpers/nats-server.ts';
import { spawnWorker, waitForLog } from '../../e2e/helpers.ts';

type Server = Awaited<ReturnType<typeof startNatsServer>>;
let server: Server;
let bus: NatsBus;

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function cli(...args: string[]): Promise<string> {
  const program = new Command('algoplanes').exitOverride();
  for (const mod of ['streams', 'dlq']) (await import(`../../../shared/cli/commands/${mod}.ts`)).register(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'algoplanes', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

/** Messages stored under a subject filter (state.messages would count the whole stream). */
async function countSubjects(stream: string, filter: string): Promise<number> {
  const info = await bus.jsm.streams.info(stream, { subjects_filter: filter });
  return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  server = await startNatsServer();
  // The CLI reads NATS_URL once, when its env module first loads (below, via dynamic import).
  process.env.NATS_URL = server.url;
  process.env.BUS = 'nats';
  bus = await NatsBus.connect({ url: server.url, name: 'workers-test' });
});
afterAll(async () => {
  await bus?.close();
  await server?.stop();
});

describe('CLI: streams and dlq', () => {
  it('streams apply creates, then reports unchanged; list shows the streams', async () => {
    const first = await cli('streams', 'apply');
    expect(first).toMatch(/stream\s+MARKET\s+created/);
    expect(first).toMatch(/consumer\s+ORDERS\/order-worker\s+created/);
    const second = await cli('streams', 'apply');
    expect(second).not.toMatch(/created|updated/);
    expect(second.match(/unchanged/g)?.length).toBe(first.match(/created/g)?.length);
    expect(await cli('streams', 'list')).toMatch(/^RECORD\s+file/m);
  });

  it('dlq list shows the reason and original, dlq replay republishes after the cause is fixed', async () => {
    let broken = true;
    const received: number[] = [];
    const sub = await bus.subscribe('orders.intents.>', (m) => {
      if (broken) throw new ValidationError('BAD_PAYLOAD', 'qty: quantity must be > 0', 'orders.intents.BTC qty');
      received.push((m.envelope.data as { n: number }).n);
    }, { durable: 'order-worker' });
    await bus.publish(subjects.intents('BTC'), makeEnvelope('orders.intent.v1', { n: 41 }, { producer: 't' }));
    let listed = '';
    await until(async () => (listed = await cli('dlq', 'list')).includes('BAD_PAYLOAD'), 'dead letter listed');
    expect(listed).toMatch(/orders\.intents\.BTC BAD_PAYLOAD at orders\.intents\.BTC qty: .*qty: quantity must be > 0/);
    const json = JSON.parse((await cli('dlq', 'list', '--json')).trim().split('\n')[0]) as { letter: { original: { data: { n: number } } } };
    expect(json.letter.original.data.n).toBe(41);
    broken = false;
    expect(await cli('dlq', 'replay', '--origin', 'orders.intents')).toMatch(/replayed 1, skipped 0/);
    await until(() => received.includes(41), 'replayed letter delivered');
    await sub.close();
  });
});

describe('data worker process', () => {
  it('serves /healthz and /metrics, and on SIGTERM drains, acks everything and exits 0', async () => {
    const w = spawnWorker('data', { BUS: 'nats', NATS_URL: server.url, WORKER_PORT: '0' });
    await waitForLog(w, '"worker started"', 60_000);
    const port = Number(/"port":(\d+)/.exec(w.output())?.[1]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ service: 'data-worker', status: 'ok' });

    const n = 500;
    const t0 = 1_641_000_000_000_000;
    const items: PublishItem[] = Array.from({ length: n }, (_, i) => {
      const bar: Bar = { kind: 'bar', symbol: 'BTC-PERP', ts: t0 + i * 60_000_000, intervalUs: 60_000_000, open: 100, high: 103, low: 99, close: 100 + (i % 3), volume: 5 };
      return { subject: subjects.rawIngest('BTC-PERP'), envelope: makeEnvelope('market.bar.v1', bar, { producer: 't' }) };
    });
    items.push({ subject: subjects.rawIngest('BTC-PERP'), envelope: makeEnvelope('market.bar.v1', { kind: 'bar', symbol: 'BTC-PERP', price: -1 }, { producer: 't' }) });
    await bus.publishBatch(items);
    await until(async () => (await countSubjects('MARKET', 'md.events.>')) >= n, 'canonical events');

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/algoplanes_messages_in_total\{[^}]*subject="md.raw"[^}]*\} 501/);
    expect(metrics).toMatch(/algoplanes_rejects_total\{[^}]*reason="BAD_PAYLOAD"[^}]*\} 1/);
    expect(metrics).toContain('algoplanes_stage_latency_seconds_bucket');

    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect(w.output()).toContain('"msg":"stopped"');
    const ci = await bus.jsm.consumers.info('MARKET', 'data-worker');
    expect(ci.num_ack_pending).toBe(0);
    expect(ci.num_pending).toBe(0);
    expect(await countSubjects('MARKET', 'md.events.>')).toBe(n);
    expect(await countSubjects('SYSTEM', subjects.dlq('md.raw.BTC-PERP'))).toBe(1);
  }, 90_000);
});
