/**
 * Lambda bundle benchmark: esbuild-bundles each handler with the planes stack's NodejsFunction
 * options (infra/bundling.ts), reports the bundle size, and times cold init (require the bundle until
 * `handler` exists, with the functions' NODE_OPTIONS) in fresh Node processes. zod is imported as a
 * namespace everywhere so esbuild can drop its unused locales.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { PLANE_BUNDLING, SDK_SOURCE, planeEsbuildOptions, type FunctionBundle } from '../infra/bundling.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** Each plane's entry, and the data plane's kafka-hot-path entry (functions/data/kafka-handler.ts). */
const HANDLERS: readonly { name: FunctionBundle; entry: string }[] = [
  ...(['data', 'strategy', 'order', 'backtest'] as const).map((name) => ({ name, entry: join('functions', name, 'handler.ts') })),
  { name: 'data-kafka', entry: join('functions', 'data', 'kafka-handler.ts') },
];
const SIZE_TARGET_BYTES = 500 * 1024;
const INIT_TARGET_MS = 150;
const INIT_RUNS = 7;

/** Just enough configuration for each handler's cold start to succeed (no network is touched at init). */
const INIT_ENV: Record<string, string> = {
  TABLE_NAME: 'bench',
  MARKET_EVENTS_STREAM: 'bench-events',
  INTENTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/intents.fifo',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
  RESULTS_BUCKET: 'bench-results',
  ACCOUNT_ID: 'paper-1',
  KAFKA_BROKERS: 'b-1.bench.kafka.us-east-1.amazonaws.com:9098',
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'algoplanes',
};

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Wall time of the require, and the process's CPU time over it (less swayed by other load on the machine). */
function timeInit(bundle: string, nodeOptions: string): { wallMs: number; cpuMs: number } {
  const script = `const c=process.cpuUsage(),t=performance.now();const m=require(${JSON.stringify(bundle)});if(typeof m.handler!=='function')throw new Error('no handler export');const w=performance.now()-t,u=process.cpuUsage(c);process.stdout.write(JSON.stringify({wallMs:w,cpuMs:(u.user+u.system)/1000}));`;
  const out = spawnSync(process.execPath, ['--no-warnings', '-e', script], {
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: nodeOptions, ...INIT_ENV },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`cold init of ${bundle} failed: ${out.stderr}`);
  return JSON.parse(out.stdout) as { wallMs: number; cpuMs: number };
}

export async function runBundleBench(): Promise<Record<string, unknown>> {
  // Inside node_modules so the bundles' external SDK imports resolve, as the runtime's copy does in Lambda.
  const dir = join(ROOT, 'node_modules', '.algoplanes-bundles');
  mkdirSync(dir, { recursive: true });
  try {
    const handlers: Record<string, unknown> = {};
    for (const { name, entry } of HANDLERS) {
      const outfile = join(dir, `${name}.cjs`);
      // The functions run Node 24; this bench runs on Node 20, so the syntax is lowered to what it can load.
      await build({ ...planeEsbuildOptions(name, 'node20'), entryPoints: [join(ROOT, entry)], outfile });
      const bytes = statSync(outfile).size;
      const runs = Array.from({ length: INIT_RUNS }, () => timeInit(outfile, PLANE_BUNDLING.nodeOptions));
      const initMs = median(runs.map((r) => r.wallMs));
      const round = (ms: number) => Math.round(ms * 10) / 10;
      handlers[name] = {
        sdk: SDK_SOURCE[name],
        bytes,
        kb: round(bytes / 1024),
        withinSizeTarget: bytes <= SIZE_TARGET_BYTES,
        initMsMedian: round(initMs),
        initMsRuns: runs.map((r) => round(r.wallMs)),
        initCpuMsMedian: round(median(runs.map((r) => r.cpuMs))),
        withinInitTarget: initMs <= INIT_TARGET_MS,
      };
    }
    return {
      bundling: PLANE_BUNDLING,
      target: 'node20',
      sizeTargetKb: SIZE_TARGET_BYTES / 1024,
      initTargetMs: INIT_TARGET_MS,
      initRuns: INIT_RUNS,
      handlers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
