/**
 * The whole system on locally installed servers, without Docker: nats-server (JetStream), redis,
 * DynamoDB Local, kinesis-local, the SQS emulator, Prometheus when installed, the three plane
 * workers as child processes, the exporter, and a replay or synthetic feed. stop() takes all of it
 * down: workers drain first (SIGTERM), then the servers; every process group is killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, openSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NatsBus, applyNats, loadNatsConfig } from '../../shared/bus/index.ts';
import type { LocalEndpoints } from '../../shared/cli/commands/health.ts';
import { publishMarketSource, runSyntheticFeed } from '../../shared/workers/replay.ts';
import { WORKER_KINDS, type WorkerKind } from '../../shared/workers/run.ts';
import { workerNodeArgs } from '../../shared/workers/spawn.ts';
import { errorMessage } from '../../shared/util/errors.ts';
import { SHARED_CORES_NATS_ENV, freePort, requireBinary, startServer, waitForPort, type RunningServer } from '../launch.ts';
import { LOCAL_AWS_NAMES, createStreams, createTable, startDynamoDbLocal, startKinesisLocal, startSqsLocal } from './aws-local.ts';
import { startExporter, type RunningExporter } from './exporter.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const OPTIONAL_COMPONENTS = ['dynamodb', 'kinesis', 'sqs', 'prometheus'] as const;
export type OptionalComponent = (typeof OPTIONAL_COMPONENTS)[number];

export interface StackOptions {
  feed: 'replay' | 'synthetic';
  /** replay: event-time speed-up or 'max'; synthetic: bars per second. */
  speed: number | 'max';
  data: string;
  symbol?: string;
  /** Replay at most this many events. */
  limit?: number;
  /** Standard local ports (as docker compose) or free ones (tests, a second stack). */
  ports: 'default' | 'free';
  skip: readonly OptionalComponent[];
  runDir: string;
  strategy: string;
  log: (line: string) => void;
}

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
}

export interface FeedResult {
  readonly published: number;
  readonly seconds: number;
}

export interface LocalStack {
  readonly endpoints: LocalEndpoints;
  /** Lambda-handler environment for the emulators (TABLE_NAME, INTENTS_QUEUE_URL, ...). */
  readonly awsEnv: Record<string, string>;
  readonly processes: readonly StartedProcess[];
  readonly exporter: RunningExporter;
  /** Settles when the feed has published everything (replay) or was stopped (synthetic). */
  readonly feed: Promise<FeedResult>;
  readonly notes: readonly string[];
  stop(): Promise<void>;
}

const DEFAULT_PORTS = { nats: 4222, natsMonitor: 8222, redis: 6379, dynamodb: 8000, kinesis: 4567, sqs: 9324, prometheus: 9090, exporter: 9104, data: 9101, strategy: 9102, order: 9103 } as const;
type PortName = keyof typeof DEFAULT_PORTS;

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

interface WorkerChild {
  kind: WorkerKind;
  child: ChildProcess;
  exited: Promise<void>;
}

function spawnWorker(kind: WorkerKind, env: NodeJS.ProcessEnv, logFile: string): WorkerChild {
  const fd = openSync(logFile, 'a');
  // detached: its own process group, so a Ctrl-C in the terminal reaches only the runner, which
  // then drains the workers in order instead of all of them dying at once.
  const child = spawn(process.execPath, workerNodeArgs(kind), { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  return { kind, child, exited };
}

async function stopGroup(child: ChildProcess, exited: Promise<void>, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const pid = child.pid;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // The worker is gone; anything it forked in its group goes too.
  signal('SIGKILL');
}

async function waitHealthy(url: string, child: WorkerChild, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.child.exitCode !== null) throw new Error(`${child.kind} worker exited with code ${child.child.exitCode}; see ${logFile}`);
    try {
      const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${child.kind} worker not healthy after ${timeoutMs} ms; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startLocalStack(opts: StackOptions): Promise<LocalStack> {
  const started: Stoppable[] = [];
  const processes: StartedProcess[] = [];
  const notes: string[] = [];
  const skip = new Set(opts.skip);
  const logDir = join(opts.runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const port = async (name: PortName) => {
    if (opts.ports === 'free') return freePort();
    const p = DEFAULT_PORTS[name];
    // Otherwise the readiness check would mistake the other listener for the server started here.
    if (await portInUse(p)) throw new Error(`port ${p} (${name}) is already in use, perhaps by a system service or another stack; stop it or run with --ports free`);
    return p;
  };
  const track = (name: string, srv: RunningServer) => {
    started.push({ name, stop: () => srv.stop() });
    if (srv.process.pid) processes.push({ name, pid: srv.process.pid });
  };

  const stopAll = async () => {
    for (const s of [...started].reverse()) {
      try {
        await s.stop();
      } catch (err) {
        opts.log(`warning: stopping ${s.name} failed: ${errorMessage(err)}`);
      }
    }
    started.length = 0;
  };

  try {
    // Fail on missing binaries before anything starts, naming the install command.
    const natsBin = requireBinary('nats-server', 'apt-get install -y nats-server');
    const redisBin = requireBinary('redis-server', 'apt-get install -y redis-server');
    let prometheusBin: string | undefined;
    if (!skip.has('prometheus')) {
      try {
        prometheusBin = requireBinary('prometheus', 'apt-get install -y prometheus');
      } catch (err) {
        notes.push(`prometheus not started: ${errorMessage(err)}`);
      }
    }

    const monitorPort = await port('natsMonitor');
    const [nats, redis] = await Promise.all([
      startServer({ name: 'nats', command: natsBin, port: await port('nats'), env: SHARED_CORES_NATS_ENV, args: (p, dir) => ['-js', '-a', '127.0.0.1', '-p', String(p), '-m', String(monitorPort), '-sd', dir] }),
      startServer({ name: 'redis', command: redisBin, port: await port('redis'), args: (p, dir) => ['--port', String(p), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'] }),
    ]);
    track('nats-server', nats);
    track('redis-server', redis);
    await waitForPort(monitorPort);
    const natsUrl = `nats://127.0.0.1:${nats.port}`;
    const natsMonitor = `http://127.0.0.1:${monitorPort}`;

    const bus = await NatsBus.connect({ url: natsUrl, name: 'local-runner' });
    started.push({ name: 'runner bus connection', stop: () => bus.close() });
    const applied = await applyNats(bus.jsm, loadNatsConfig(join(REPO_ROOT, 'local/nats')));
    opts.log(`provisioned JetStream: ${applied.map((a) => `${a.name} ${a.action}`).join(', ')}`);

    const awsEnv: Record<string, string> = {};
    const endpoints: LocalEndpoints = { nats: natsUrl, natsMonitor, redis: `redis://127.0.0.1:${redis.port}`, workers: {} };
    const [dynamo, kinesis, sqs] = await Promise.all([
      skip.has('dynamodb') ? undefined : port('dynamodb').then(startDynamoDbLocal),
      skip.has('kinesis') ? undefined : port('kinesis').then(startKinesisLocal),
      skip.has('sqs') ? undefined : port('sqs').then(startSqsLocal),
    ]);
    if (dynamo) {
      track('dynamodb-local', dynamo);
      await createTable(dynamo.endpoint);
      endpoints.dynamodb = dynamo.endpoint;
      Object.assign(awsEnv, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, TABLE_NAME: LOCAL_AWS_NAMES.table });
    }
    if (kinesis) {
      track('kinesis-local', kinesis);
      await createStreams(kinesis.endpoint);
      endpoints.kinesis = kinesis.endpoint;
      Object.assign(awsEnv, { AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint, MARKET_EVENTS_STREAM: LOCAL_AWS_NAMES.eventsStream });
    }
    if (sqs) {
      started.push({ name: 'sqs emulator', stop: () => sqs.stop() });
      endpoints.sqs = sqs.endpoint;
      const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const urls = (await client.send(new ListQueuesCommand({}))).QueueUrls ?? [];
      client.destroy();
      const urlOf = (name: string) => urls.find((u) => u.endsWith(`/${name}`)) ?? '';
      Object.assign(awsEnv, { AWS_ENDPOINT_URL_SQS: sqs.endpoint, INTENTS_QUEUE_URL: urlOf(LOCAL_AWS_NAMES.intentsQueue), DLQ_URL: urlOf(LOCAL_AWS_NAMES.dlq) });
    }

    const workerEnv = { BUS: 'nats', NATS_URL: natsUrl, REDIS_URL: endpoints.redis, STRATEGY: opts.strategy, LOG_LEVEL: 'info' };
    const workers: WorkerChild[] = [];
    // stop() runs in reverse start order: the feed first, then the order, strategy and data
    // workers (each drains and checkpoints while the bus and Redis are still up), servers last.
    for (const kind of WORKER_KINDS) {
      const workerPort = await port(kind);
      const logFile = join(logDir, `${kind}-worker.log`);
      const w = spawnWorker(kind, { ...workerEnv, WORKER_PORT: String(workerPort) }, logFile);
      workers.push(w);
      if (w.child.pid) processes.push({ name: `${kind}-worker`, pid: w.child.pid });
      started.push({ name: `${kind}-worker`, stop: () => stopGroup(w.child, w.exited, 15_000) });
      endpoints.workers[kind] = `http://127.0.0.1:${workerPort}`;
    }
    await Promise.all(workers.map((w) => waitHealthy(endpoints.workers[w.kind] ?? '', w, join(logDir, `${w.kind}-worker.log`), 90_000)));

    const exporter = await startExporter({ natsUrl, natsMonitorUrl: natsMonitor, port: await port('exporter'), log: (msg, f) => opts.log(`${msg} ${JSON.stringify(f ?? {})}`) });
    started.push({ name: 'exporter', stop: () => exporter.stop() });
    endpoints.exporter = `http://127.0.0.1:${exporter.port}`;

    if (prometheusBin) {
      const promDir = join(opts.runDir, 'prometheus');
      rmSync(promDir, { recursive: true, force: true });
      mkdirSync(join(promDir, 'targets'), { recursive: true });
      cpSync(join(REPO_ROOT, 'local/prometheus/prometheus.yml'), join(promDir, 'prometheus.yml'));
      cpSync(join(REPO_ROOT, 'local/prometheus/rules'), join(promDir, 'rules'), { recursive: true });
      const promPort = await port('prometheus');
      const hostPort = (u: string) => new URL(u).host;
      writeFileSync(join(promDir, 'targets/workers.json'), JSON.stringify(WORKER_KINDS.map((k) => ({ targets: [hostPort(endpoints.workers[k] ?? '')], labels: { plane: k } }))));
      writeFileSync(join(promDir, 'targets/exporter.json'), JSON.stringify([{ targets: [hostPort(endpoints.exporter)], labels: { plane: 'bus' } }]));
      writeFileSync(join(promDir, 'targets/prometheus.json'), JSON.stringify([{ targets: [`127.0.0.1:${promPort}`] }]));
      const check = spawnSync('promtool', ['check', 'config', join(promDir, 'prometheus.yml')], { encoding: 'utf8' });
      if (check.status !== 0 && check.error === undefined) throw new Error(`prometheus config invalid:\n${check.stdout}${check.stderr}`);
      const prom = await startServer({
        name: 'prometheus',
        command: prometheusBin,
        port: promPort,
        args: (p, dir) => [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${dir}`, `--web.listen-address=127.0.0.1:${p}`, '--log.level=warn'],
      });
      track('prometheus', prom);
      endpoints.prometheus = `http://127.0.0.1:${prom.port}`;
    }

    const abort = new AbortController();
    started.push({ name: 'feed', stop: async () => abort.abort() });
    const t0 = Date.now();
    const feed: Promise<FeedResult> =
      opts.feed === 'replay'
        ? publishMarketSource(bus, opts.data, { speed: opts.speed, symbol: opts.symbol, limit: opts.limit }).then((s) => ({ published: s.published, seconds: s.seconds }))
        : runSyntheticFeed(bus, { symbol: opts.symbol ?? 'SYN-USD', rate: opts.speed === 'max' ? 1_000 : opts.speed, signal: abort.signal }).then((n) => ({ published: n, seconds: (Date.now() - t0) / 1_000 }));
    // Surfaced through `feed`; a failed feed must not become an unhandled rejection meanwhile.
    feed.catch(() => undefined);

    return { endpoints, awsEnv, processes, exporter, feed, notes, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
