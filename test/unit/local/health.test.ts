/** `algoplanes health`: probes, table, state-file endpoints and exit code, against tiny local servers. */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_ENDPOINTS, checkComponents, formatHealthTable, loadEndpoints, register, type LocalEndpoints } from '../../../shared/cli/commands/health.ts';
import { freePort } from '../../../local/launch.ts';

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An HTTP server answering path -> [status, body]; a fake worker /healthz or nats monitoring port. */
async function serve(routes: Record<string, [number, string]>): Promise<string> {
  const srv = createServer((req, res) => {
    const [status, body] = routes[(req.url ?? '').split('?')[0] ?? ''] ?? [404, ''];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

async function endpoints(workerBody: object, workerStatus = 200): Promise<LocalEndpoints> {
  const closed = await freePort();
  return {
    nats: 'nats://127.0.0.1:1',
    natsMonitor: await serve({ '/healthz': [200, '{"status":"ok"}'] }),
    redis: `redis://127.0.0.1:${closed}`,
    workers: { order: await serve({ '/healthz': [workerStatus, JSON.stringify(workerBody)] }) },
  };
}

describe('checkComponents', () => {
  it('reports a working component ok, an unreachable one down, and passes a worker\'s degraded checks through', async () => {
    const rows = await checkComponents(await endpoints({ service: 'order-worker', status: 'degraded', checks: [{ name: 'bus', status: 'ok', detail: '' }, { name: 'redis', status: 'degraded', detail: 'redis unavailable' }] }), { timeoutMs: 1_000 });
    const by = Object.fromEntries(rows.map((r) => [r.component, r]));
    expect(by.nats?.status).toBe('ok');
    expect(by.redis?.status).toBe('down');
    expect(by.redis?.detail).toMatch(/ECONNREFUSED/);
    expect(by['order-worker']).toMatchObject({ status: 'degraded', detail: 'redis: degraded redis unavailable' });
    expect(rows.map((r) => r.component)).toEqual(['nats', 'redis', 'order-worker']);
  });

  it('marks a worker that answers something other than a health document down', async () => {
    const rows = await checkComponents(await endpoints({ hello: 1 }, 500), { timeoutMs: 1_000 });
    expect(rows.find((r) => r.component === 'order-worker')).toMatchObject({ status: 'down', detail: 'HTTP 500: not a health document' });
  });
});

describe('formatHealthTable', () => {
  it('aligns columns under a header, one row per component', () => {
    const table = formatHealthTable([
      { component: 'nats', endpoint: 'http://a:1', status: 'ok', detail: 'fine', ms: 3 },
      { component: 'order-worker', endpoint: 'http://b:22', status: 'down', detail: 'refused', ms: 12 },
    ]);
    expect(table.split('\n')).toEqual([
      'COMPONENT     STATUS  ENDPOINT     MS  DETAIL',
      'nats          OK      http://a:1   3   fine',
      'order-worker  DOWN    http://b:22  12  refused',
    ]);
  });
});

describe('loadEndpoints', () => {
  it('uses the standard local ports without a state file and the recorded ones with it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'algoplanes-health-'));
    dirs.push(dir);
    expect(loadEndpoints(join(dir, 'missing.json')).endpoints).toEqual(DEFAULT_LOCAL_ENDPOINTS);
    const recorded = { ...DEFAULT_LOCAL_ENDPOINTS, redis: 'redis://127.0.0.1:7777' };
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ endpoints: recorded }));
    expect(loadEndpoints(join(dir, 'state.json'))).toEqual({ endpoints: recorded, source: join(dir, 'state.json') });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ endpoints: { nats: 1 } }));
    expect(() => loadEndpoints(join(dir, 'bad.json'))).toThrow(/bad\.json: no valid "endpoints"/);
  });
});

describe('health command', () => {
  it('prints JSON and sets exit code 1 when a component is down, 0 when all are up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'algoplanes-health-'));
    dirs.push(dir);
    const run = async (e: LocalEndpoints) => {
      writeFileSync(join(dir, 'state.json'), JSON.stringify({ endpoints: e }));
      const program = new Command().exitOverride();
      register(program);
      let out = '';
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
      const before = process.exitCode;
      try {
        await program.parseAsync(['health', '--state', join(dir, 'state.json'), '--format', 'json', '--timeout', '1000'], { from: 'user' });
        return { code: process.exitCode, out: JSON.parse(out) as { components: { component: string; status: string }[] } };
      } finally {
        process.stdout.write = write;
        process.exitCode = before;
      }
    };
    const down = await run(await endpoints({ status: 'ok', checks: [] }));
    expect(down.code).toBe(1);
    expect(down.out.components.find((c) => c.component === 'redis')?.status).toBe('down');

    const monitor = await serve({ '/healthz': [200, '{}'] });
    const worker = await serve({ '/healthz': [200, JSON.stringify({ status: 'ok', checks: [{ name: 'bus', status: 'ok' }] })] });
    // Answers RESP PING the way redis does.
    const fakeRedis = createTcpServer((s) => s.once('data', () => s.end('+PONG\r\n')));
    await new Promise<void>((r) => fakeRedis.listen(0, '127.0.0.1', () => r()));
    try {
      const up = await run({ nats: 'nats://x:1', natsMonitor: monitor, redis: `redis://127.0.0.1:${(fakeRedis.address() as AddressInfo).port}`, workers: { data: worker } });
      expect(up.out.components.map((c) => c.status)).toEqual(['ok', 'ok', 'ok']);
      expect(up.code).toBe(0);
    } finally {
      fakeRedis.close();
    }
  });
});
