/**
 * `algoplanes health`: one line per component of the local system (bus, cache, AWS emulators,
 * Prometheus, each worker's /healthz), as a health-check table; exit code 1 when any is down.
 * Endpoints come from the state file `npm run local` writes, else the standard local ports.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Option, type Command } from 'commander';
import * as z from 'zod';
import type { HealthStatus } from '../../domain/system.ts';
import { errorMessage } from '../../util/errors.ts';

/** Where `npm run local` records what it started (.local-run/ is git-ignored). */
export const DEFAULT_STATE_FILE = '.local-run/state.json';

const url = z.string().min(1);
export const LocalEndpointsSchema = z.object({
  nats: url,
  natsMonitor: url,
  redis: url,
  dynamodb: url.optional(),
  kinesis: url.optional(),
  sqs: url.optional(),
  prometheus: url.optional(),
  exporter: url.optional(),
  workers: z.record(z.string(), url),
});
export type LocalEndpoints = z.infer<typeof LocalEndpointsSchema>;

/** The ports docker compose (local/compose.yml) and `npm run local` use by default. */
export const DEFAULT_LOCAL_ENDPOINTS: LocalEndpoints = {
  nats: 'nats://127.0.0.1:4222',
  natsMonitor: 'http://127.0.0.1:8222',
  redis: 'redis://127.0.0.1:6379',
  dynamodb: 'http://127.0.0.1:8000',
  kinesis: 'http://127.0.0.1:4567',
  sqs: 'http://127.0.0.1:9324',
  prometheus: 'http://127.0.0.1:9090',
  exporter: 'http://127.0.0.1:9104',
  workers: { data: 'http://127.0.0.1:9101', strategy: 'http://127.0.0.1:9102', order: 'http://127.0.0.1:9103' },
};

export interface ComponentHealth {
  readonly component: string;
  readonly endpoint: string;
  readonly status: HealthStatus;
  readonly detail: string;
  readonly ms: number;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

async function httpGet(target: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const res = await fetch(target, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

/** Redis speaks RESP: PING answers +PONG. */
function redisPing(redisUrl: string, timeoutMs: number): Promise<string> {
  const u = new URL(redisUrl);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (b) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(b.toString().trim());
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

type Probe = () => Promise<{ status: HealthStatus; detail: string }>;

async function awsClientConfig(endpoint: string, timeoutMs: number) {
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  // HTTP/1.1 handler: kinesis-local's plain port does not speak the SDK's default HTTP/2 for Kinesis.
  return { endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: new NodeHttpHandler({ connectionTimeout: timeoutMs, requestTimeout: timeoutMs }) };
}

function probes(e: LocalEndpoints, timeoutMs: number): [component: string, endpoint: string, probe: Probe][] {
  const list: [string, string, Probe][] = [
    [
      'nats',
      e.natsMonitor,
      async () => {
        const r = await httpGet(`${e.natsMonitor}/healthz?js-enabled-only=true`, timeoutMs);
        return r.status === 200 ? { status: 'ok', detail: `JetStream enabled (${e.nats})` } : { status: 'down', detail: `HTTP ${r.status} ${r.body.slice(0, 120)}` };
      },
    ],
    [
      'redis',
      e.redis,
      async () => {
        const answer = await redisPing(e.redis, timeoutMs);
        return answer === '+PONG' ? { status: 'ok', detail: 'PONG' } : { status: 'down', detail: `unexpected answer ${answer.slice(0, 60)}` };
      },
    ],
  ];
  if (e.dynamodb) {
    const endpoint = e.dynamodb;
    list.push([
      'dynamodb',
      endpoint,
      async () => {
        const { DynamoDBClient, ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
        const client = new DynamoDBClient(await awsClientConfig(endpoint, timeoutMs));
        try {
          const out = await client.send(new ListTablesCommand({}));
          return { status: 'ok', detail: `tables: ${(out.TableNames ?? []).join(', ') || '(none)'}` };
        } finally {
          client.destroy();
        }
      },
    ]);
  }
  if (e.kinesis) {
    const endpoint = e.kinesis;
    list.push([
      'kinesis',
      endpoint,
      async () => {
        const { KinesisClient, ListStreamsCommand } = await import('@aws-sdk/client-kinesis');
        const client = new KinesisClient(await awsClientConfig(endpoint, timeoutMs));
        try {
          const out = await client.send(new ListStreamsCommand({}));
          return { status: 'ok', detail: `streams: ${(out.StreamNames ?? []).join(', ') || '(none)'}` };
        } finally {
          client.destroy();
        }
      },
    ]);
  }
  if (e.sqs) {
    const endpoint = e.sqs;
    list.push([
      'sqs',
      endpoint,
      async () => {
        const { SQSClient, ListQueuesCommand } = await import('@aws-sdk/client-sqs');
        const client = new SQSClient(await awsClientConfig(endpoint, timeoutMs));
        try {
          const out = await client.send(new ListQueuesCommand({}));
          return { status: 'ok', detail: `queues: ${(out.QueueUrls ?? []).map((q) => q.slice(q.lastIndexOf('/') + 1)).join(', ') || '(none)'}` };
        } finally {
          client.destroy();
        }
      },
    ]);
  }
  if (e.prometheus) {
    const endpoint = e.prometheus;
    list.push([
      'prometheus',
      endpoint,
      async () => {
        const ready = await httpGet(`${endpoint}/-/ready`, timeoutMs);
        if (ready.status !== 200) return { status: 'down', detail: `HTTP ${ready.status}` };
        const t = await httpGet(`${endpoint}/api/v1/targets?state=active`, timeoutMs);
        const targets = (JSON.parse(t.body) as { data?: { activeTargets?: { health: string }[] } }).data?.activeTargets ?? [];
        const up = targets.filter((x) => x.health === 'up').length;
        // No target scraped yet (just started) is not healthy either: nothing is being recorded.
        return { status: targets.length > 0 && up === targets.length ? 'ok' : 'degraded', detail: `${up}/${targets.length} scrape targets up` };
      },
    ]);
  }
  if (e.exporter) list.push(['exporter', e.exporter, serviceHealth(`${e.exporter}/healthz`, timeoutMs)]);
  for (const [kind, base] of Object.entries(e.workers)) list.push([`${kind}-worker`, base, serviceHealth(`${base}/healthz`, timeoutMs)]);
  return list;
}

/** A worker's /healthz: its JSON status, and the checks that are not ok as the detail. */
function serviceHealth(target: string, timeoutMs: number): Probe {
  return async () => {
    const r = await httpGet(target, timeoutMs);
    const parsed = z
      .object({ status: z.enum(['ok', 'degraded', 'down']), checks: z.array(z.object({ name: z.string(), status: z.string(), detail: z.string().optional() })).default([]) })
      .safeParse(JSON.parse(r.body));
    if (!parsed.success) return { status: 'down', detail: `HTTP ${r.status}: not a health document` };
    const bad = parsed.data.checks.filter((c) => c.status !== 'ok');
    const detail = bad.length ? bad.map((c) => `${c.name}: ${c.status} ${c.detail ?? ''}`.trim()).join('; ') : parsed.data.checks.map((c) => c.name).join(', ') + ' ok';
    return { status: parsed.data.status, detail };
  };
}

export async function checkComponents(endpoints: LocalEndpoints, opts: { timeoutMs?: number } = {}): Promise<ComponentHealth[]> {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  return Promise.all(
    probes(endpoints, timeoutMs).map(async ([component, endpoint, probe]) => {
      const t0 = Date.now();
      try {
        const r = await probe();
        return { component, endpoint, ...r, ms: Date.now() - t0 };
      } catch (err) {
        return { component, endpoint, status: 'down' as const, detail: errorMessage(err), ms: Date.now() - t0 };
      }
    }),
  );
}

export function formatHealthTable(rows: readonly ComponentHealth[]): string {
  const header = ['COMPONENT', 'STATUS', 'ENDPOINT', 'MS', 'DETAIL'];
  const cells = rows.map((r) => [r.component, r.status.toUpperCase(), r.endpoint, String(r.ms), r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...cells.map(line)].join('\n');
}

/** Endpoints from the state file when it exists, else the standard local ports. */
export function loadEndpoints(stateFile: string): { endpoints: LocalEndpoints; source: string } {
  if (!existsSync(stateFile)) return { endpoints: DEFAULT_LOCAL_ENDPOINTS, source: 'default local ports' };
  const raw = JSON.parse(readFileSync(stateFile, 'utf8')) as { endpoints?: unknown };
  const parsed = LocalEndpointsSchema.safeParse(raw.endpoints);
  if (!parsed.success) throw new Error(`${stateFile}: no valid "endpoints" object (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return { endpoints: parsed.data, source: stateFile };
}

export function register(program: Command): void {
  program
    .command('health')
    .description('Check every local component (nats, redis, dynamodb, kinesis, sqs, prometheus, workers); exit 1 if any is down')
    .option('--state <file>', 'state file written by `npm run local`', DEFAULT_STATE_FILE)
    .option('--timeout <ms>', 'per-component timeout', (v) => Number(v), 2_000)
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (flags: { state: string; timeout: number; format: 'table' | 'json' }) => {
      const { endpoints, source } = loadEndpoints(flags.state);
      const rows = await checkComponents(endpoints, { timeoutMs: flags.timeout });
      if (flags.format === 'json') process.stdout.write(JSON.stringify({ source, components: rows }, null, 2) + '\n');
      else process.stdout.write(`endpoints from ${source}\n${formatHealthTable(rows)}\n`);
      const down = rows.filter((r) => r.status === 'down');
      process.exitCode = down.length > 0 ? 1 : 0;
    });
}
