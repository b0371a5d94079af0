/**
 * `npm run local` (tsx local/run/main.ts): the whole system on this machine without Docker.
 * Prints where everything listens, runs until Ctrl-C / SIGTERM or --duration, then stops all of it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_STATE_FILE, checkComponents, formatHealthTable } from '../../shared/cli/commands/health.ts';
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { errorMessage } from '../../shared/util/errors.ts';
import { OPTIONAL_COMPONENTS, REPO_ROOT, startLocalStack, type OptionalComponent, type StackOptions } from './stack.ts';

const USAGE = `usage: npm run local -- [options]
  --duration <s>       stop by itself after this many seconds (default: run until Ctrl-C)
  --feed <kind>        replay (default) | synthetic
  --speed <x>          replay: event-time speed-up or "max" (default max); synthetic: bars/second (default 10)
  --data <path>        file to replay (default data/bars/btc-perp-2022-01_1m.csv)
  --limit <n>          replay at most n events
  --symbol <s>         symbol for the feed
  --strategy <name>    strategy the strategy worker runs (default ${DEFAULTS.backtest.strategy})
  --ports <mode>       default (4222, 6379, 8000, ... as docker compose) | free
  --skip <list>        comma list of ${OPTIONAL_COMPONENTS.join(', ')}
  --run-dir <dir>      logs and generated config (default .local-run)
  --state-file <file>  where endpoints and PIDs are written for \`algoplanes health\` (default ${DEFAULT_STATE_FILE})`;

function fail(msg: string): never {
  process.stderr.write(`local: ${msg}\n${USAGE}\n`);
  process.exit(64);
}

function parseOptions(argv: string[]): StackOptions & { duration?: number; stateFile: string } {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        feed: { type: 'string', default: 'replay' },
        speed: { type: 'string' },
        data: { type: 'string', default: 'data/bars/btc-perp-2022-01_1m.csv' },
        limit: { type: 'string' },
        symbol: { type: 'string' },
        strategy: { type: 'string', default: DEFAULTS.backtest.strategy },
        ports: { type: 'string', default: 'default' },
        skip: { type: 'string', default: '' },
        'run-dir': { type: 'string', default: '.local-run' },
        'state-file': { type: 'string', default: DEFAULT_STATE_FILE },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(errorMessage(err));
  }
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const positive = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) fail(`--${name} expects a positive number, got "${raw}"`);
    return n;
  };
  if (v.feed !== 'replay' && v.feed !== 'synthetic') fail(`--feed expects replay or synthetic, got "${v.feed}"`);
  if (v.ports !== 'default' && v.ports !== 'free') fail(`--ports expects default or free, got "${v.ports}"`);
  const skip = v.skip.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of skip) if (!(OPTIONAL_COMPONENTS as readonly string[]).includes(s)) fail(`--skip: unknown component "${s}"`);
  const speed = v.speed === undefined ? (v.feed === 'replay' ? 'max' : 10) : v.speed === 'max' ? 'max' : (positive('speed', v.speed) as number);
  const limit = positive('limit', v.limit);
  return {
    feed: v.feed,
    speed,
    data: resolve(v.data),
    symbol: v.symbol,
    limit: limit === undefined ? undefined : Math.floor(limit),
    ports: v.ports,
    skip: skip as OptionalComponent[],
    runDir: resolve(v['run-dir']),
    strategy: v.strategy,
    duration: positive('duration', v.duration),
    stateFile: resolve(v['state-file']),
    log: (line) => process.stdout.write(`local: ${line}\n`),
  };
}

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `  ${k.padEnd(w)}  ${val}`).join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  process.chdir(REPO_ROOT);
  let stopping: Promise<void> | undefined;
  const starting = startLocalStack(opts);

  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      process.stdout.write(`local: stopping (${reason})\n`);
      // A signal during startup waits for it to finish, so nothing it started is left behind.
      const stack = await starting.catch(() => undefined);
      if (stack) {
        const fills = (await stack.exporter.metrics.fills.get()).values.reduce((a, x) => a + x.value, 0);
        const reports = (await stack.exporter.metrics.reports.get()).values.reduce((a, x) => a + x.value, 0);
        await stack.stop();
        rmSync(opts.stateFile, { force: true });
        process.stdout.write(`local: summary ${JSON.stringify({ reason, fills, executionReports: reports })}\n`);
      }
      process.stdout.write('local: stopped\n');
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => void shutdown(sig).then(() => process.exit(0)));
  }

  const stack = await starting;
  if (stopping) return;
  const e = stack.endpoints;
  const rows: [string, string][] = [
    ['nats', `${e.nats}  (monitoring ${e.natsMonitor})`],
    ['redis', e.redis],
    ['dynamodb', e.dynamodb ? `${e.dynamodb}  table ${stack.awsEnv.TABLE_NAME}` : 'skipped'],
    ['kinesis', e.kinesis ? `${e.kinesis}  streams ${stack.awsEnv.MARKET_EVENTS_STREAM} (+ ingest)` : 'skipped'],
    ['sqs', e.sqs ? `${e.sqs}  ${stack.awsEnv.INTENTS_QUEUE_URL}` : 'skipped'],
    ['prometheus', e.prometheus ?? 'not running'],
    ['exporter', `${e.exporter}/metrics`],
    ...Object.entries(e.workers).map(([k, u]): [string, string] => [`${k}-worker`, `${u}/healthz  ${u}/metrics`]),
    ['logs', `${opts.runDir}/logs`],
  ];
  process.stdout.write(`local: running\n${table(rows)}\n`);
  for (const n of stack.notes) process.stdout.write(`local: note: ${n}\n`);
  mkdirSync(dirname(opts.stateFile), { recursive: true });
  writeFileSync(opts.stateFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), runDir: opts.runDir, endpoints: e, awsEnv: stack.awsEnv, processes: stack.processes }, null, 2));
  process.stdout.write(`local: state written to ${opts.stateFile}; check with \`npx algoplanes health --state ${opts.stateFile}\`\n`);
  process.stdout.write(`local: health\n${formatHealthTable(await checkComponents(e))}\n`);

  stack.feed.then(
    (f) => process.stdout.write(`local: feed done: ${f.published} events in ${f.seconds.toFixed(1)} s\n`),
    (err: unknown) => {
      if (!stopping) process.stdout.write(`local: feed failed: ${errorMessage(err)}\n`);
    },
  );
  if (opts.duration !== undefined) setTimeout(() => void shutdown(`duration ${opts.duration}s`).then(() => process.exit(0)), opts.duration * 1_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`local: ${errorMessage(err)}\n`);
  process.exit(1);
});
