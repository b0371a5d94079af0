/**
 * Lambda bundle benchmark: esbuild-bundles each handler as CDK's NodejsFunction does (minified,
 * node20, CJS, `@aws-sdk/*` external because the Node 20 runtime ships SDK v3), reports the bundle
 * size, and times cold init (require the bundle until `handler` exists) in fresh Node processes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const HANDLERS = ['data', 'strategy', 'order', 'backtest'] as const;
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
  AWS_REGION: 'us-east-1',
  POWERTOOLS_SERVICE_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'algoplanes',
};

/**
 * zod 4's main entry re-exports every locale (`z.locales`), ~40% of each bundle, and esbuild cannot
 * drop a namespace re-export. This variant keeps only English to show what stripping them would save.
 */
const englishOnlyZodLocales: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(join('node_modules', 'zod')) ? { path: 'zod-locales-en', namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => ({
      contents: `export { default as en } from ${JSON.stringify(join(ROOT, 'node_modules/zod/v4/locales/en.js'))};`,
      loader: 'js',
      resolveDir: ROOT,
    }));
  },
};

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function timeInit(bundle: string): number {
  const script = `const t=performance.now();const m=require(${JSON.stringify(bundle)});if(typeof m.handler!=='function')throw new Error('no handler export');process.stdout.write(String(performance.now()-t));`;
  const out = spawnSync(process.execPath, ['-e', script], {
    // Externals (@aws-sdk/*) resolve from the repo's node_modules, as they would from the runtime's.
    env: { PATH: process.env.PATH ?? '', NODE_PATH: join(ROOT, 'node_modules'), ...INIT_ENV },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`cold init of ${bundle} failed: ${out.stderr}`);
  return Number(out.stdout);
}

export async function runBundleBench(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'algoplanes-bundles-'));
  try {
    const handlers: Record<string, unknown> = {};
    for (const variant of ['cdk-default', 'zod-english-only'] as const)
    for (const name of HANDLERS) {
      const outfile = join(dir, `${name}-${variant}.cjs`);
      await build({
        plugins: variant === 'zod-english-only' ? [englishOnlyZodLocales] : [],
        entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
        outfile,
        bundle: true,
        minify: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        external: ['@aws-sdk/*'],
        logLevel: 'silent',
      });
      const bytes = statSync(outfile).size;
      const runs = Array.from({ length: INIT_RUNS }, () => timeInit(outfile));
      const initMs = median(runs);
      handlers[`${name}${variant === 'cdk-default' ? '' : ' (zod english-only)'}`] = {
        bytes,
        kb: Math.round((bytes / 1024) * 10) / 10,
        withinSizeTarget: bytes <= SIZE_TARGET_BYTES,
        initMsMedian: Math.round(initMs * 10) / 10,
        initMsRuns: runs.map((r) => Math.round(r * 10) / 10),
        withinInitTarget: initMs <= INIT_TARGET_MS,
      };
    }
    return {
      format: 'cjs',
      target: 'node20',
      external: ['@aws-sdk/*'],
      sizeTargetKb: SIZE_TARGET_BYTES / 1024,
      initTargetMs: INIT_TARGET_MS,
      initRuns: INIT_RUNS,
      handlers,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
