/**
 * `npm run local` end to end on this machine: a replay of real BTC-perp bars through the three worker
 * processes produces fills; every component reports healthy; metrics travel worker -> Prometheus;
 * SIGINT stops everything and no process the runner started is left.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkComponents, type LocalEndpoints } from '../../../shared/cli/commands/health.ts';
import { requireBinary } from '../../../local/launch.ts';

const dir = mkdtempSync(join(tmpdir(), 'algoplanes-local-run-'));
const stateFile = join(dir, 'state.json');
let output = '';
let runner: ReturnType<typeof spawn> | undefined;

afterAll(() => {
  if (runner && runner.exitCode === null) runner.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface State {
  pid: number;
  endpoints: LocalEndpoints;
  processes: { name: string; pid: number }[];
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; runner output:\n${output.slice(-6_000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const metricSum = (text: string, name: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '))
    .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

describe('npm run local', () => {
  it('replays bars into fills, is healthy with metrics scraped end to end, and stops without leaving a process', async () => {
    for (const [bin, pkg] of [['nats-server', 'nats-server'], ['redis-server', 'redis-server'], ['java', 'openjdk-17-jre-headless'], ['prometheus', 'prometheus']] as const) {
      requireBinary(bin, `apt-get install -y ${pkg}`);
    }
    runner = spawn(process.execPath, ['--import', 'tsx', 'local/run/main.ts', '--ports', 'free', '--limit', '3000', '--duration', '150', '--run-dir', dir, '--state-file', stateFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runner.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    runner.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((r) => runner?.once('exit', (code) => r(code)));

    const state = await until('the state file', 120_000, async () => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as State) : undefined));
    expect(state.pid).toBe(runner.pid);
    expect(state.processes.map((p) => p.name).sort()).toEqual(['data-worker', 'dynamodb-local', 'kinesis-local', 'nats-server', 'order-worker', 'prometheus', 'redis-server', 'strategy-worker']);
    for (const p of state.processes) expect(alive(p.pid), p.name).toBe(true);
    expect(output).toMatch(/order-worker\s+http:\/\/127\.0\.0\.1:\d+\/healthz/);

    // Fills, as the order worker published them on the bus (read by the exporter).
    const e = state.endpoints;
    const fills = await until('fills', 60_000, async () => {
      const n = metricSum(await (await fetch(`${e.exporter}/metrics`)).text(), 'algoplanes_fills_total');
      return n > 0 ? n : undefined;
    });
    expect(fills).toBeGreaterThan(0);
    // Packed hot-path messages (several envelopes per wire message) are read element by element.
    const exporterMetrics = await (await fetch(`${e.exporter}/metrics`)).text();
    expect(metricSum(exporterMetrics, 'algoplanes_intents_total')).toBeGreaterThan(0);
    expect(metricSum(exporterMetrics, 'algoplanes_exporter_undecodable_total')).toBe(0);
    const orderMetrics = await (await fetch(`${e.workers.order}/metrics`)).text();
    expect(metricSum(orderMetrics, 'algoplanes_messages_out_total')).toBeGreaterThan(0);
    expect(orderMetrics).toContain('service="order-worker"');

    // Every component healthy (Prometheus is healthy once it has scraped all its targets).
    const rows = await until('all components ok', 60_000, async () => {
      const r = await checkComponents(e);
      return r.every((c) => c.status === 'ok') ? r : undefined;
    });
    expect(rows.map((r) => r.component)).toEqual(['nats', 'redis', 'dynamodb', 'kinesis', 'sqs', 'prometheus', 'exporter', 'data-worker', 'strategy-worker', 'order-worker']);

    // End to end: the workers' and exporter's series are in Prometheus.
    const query = async (q: string) => {
      const body = (await (await fetch(`${e.prometheus}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data.result;
    };
    const scrapedFills = await until('fills in Prometheus', 30_000, async () => {
      const r = await query('sum(algoplanes_fills_total)');
      return r.length && Number(r[0]?.value[1]) > 0 ? Number(r[0]?.value[1]) : undefined;
    });
    expect(scrapedFills).toBeGreaterThan(0);
    const planes = (await query('sum by (plane) (algoplanes_messages_in_total)')).map((r) => r.metric.plane).sort();
    expect(planes).toEqual(['data', 'order', 'strategy']);

    runner.kill('SIGINT');
    expect(await exited).toBe(0);
    const summary = JSON.parse(/local: summary (\{.*\})/.exec(output)?.[1] ?? '{}') as { fills?: number };
    expect(summary.fills).toBeGreaterThanOrEqual(fills);
    expect(existsSync(stateFile)).toBe(false);
    const left = state.processes.filter((p) => alive(p.pid));
    expect(left, `still running: ${left.map((p) => `${p.name} ${p.pid}`).join(', ')}`).toEqual([]);
    const after = await checkComponents(e, { timeoutMs: 500 });
    expect(after.filter((r) => r.status !== 'down').map((r) => r.component)).toEqual([]);
  }, 300_000);
});

describe('npm run local --feed synthetic --duration', () => {
  it('trades on synthetic bars and stops by itself after the duration, leaving no process', async () => {
    for (const [bin, pkg] of [['nats-server', 'nats-server'], ['redis-server', 'redis-server']] as const) requireBinary(bin, `apt-get install -y ${pkg}`);
    const runDir = join(dir, 'synthetic');
    const state2 = join(runDir, 'state.json');
    let out = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/run/main.ts', '--ports', 'free', '--feed', 'synthetic', '--speed', '200', '--duration', '12', '--skip', 'dynamodb,kinesis,sqs,prometheus', '--run-dir', runDir, '--state-file', state2], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 120_000;
    while (!existsSync(state2) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(state2), out).toBe(true);
    const state = JSON.parse(readFileSync(state2, 'utf8')) as State;
    expect(state.processes.map((p) => p.name).sort()).toEqual(['data-worker', 'nats-server', 'order-worker', 'redis-server', 'strategy-worker']);
    expect(out).toMatch(/prometheus\s+not running/);

    expect(await exited, out).toBe(0);
    expect(out).toContain('local: stopping (duration 12s)');
    const summary = JSON.parse(/local: summary (\{.*\})/.exec(out)?.[1] ?? '{}') as { fills?: number };
    expect(summary.fills, out).toBeGreaterThan(0);
    expect(state.processes.filter((p) => alive(p.pid))).toEqual([]);
  }, 180_000);
});
