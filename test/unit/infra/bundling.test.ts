import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAZY_CREDENTIAL_PROVIDERS, SDK_SOURCE, planeEsbuildOptions, type FunctionBundle } from '../../../infra/bundling.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// Required inside a try by the S3 multi-region signer; absent, it falls back to the JS signer.
const OPTIONAL = new Set(['@aws-sdk/signature-v4-crt']);
const ENTRIES: Readonly<Record<FunctionBundle, string>> = {
  data: 'functions/data/handler.ts',
  strategy: 'functions/strategy/handler.ts',
  order: 'functions/order/handler.ts',
  backtest: 'functions/backtest/handler.ts',
  'data-kafka': 'functions/data/kafka-handler.ts',
};

async function metafile(fn: FunctionBundle) {
  const out = await build({ ...planeEsbuildOptions(fn, 'node20'), sourcemap: false, entryPoints: [join(ROOT, ENTRIES[fn])], write: false, metafile: true, outfile: 'handler.cjs' });
  const externals = new Set(Object.values(out.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
  return { externals: [...externals].filter((p) => !BUILTINS.has(p) && !OPTIONAL.has(p)), inputs: Object.keys(out.metafile.inputs) };
}

describe('plane function bundles', () => {
  const bundles = Object.keys(ENTRIES) as FunctionBundle[];

  it.each(bundles.filter((fn) => SDK_SOURCE[fn] === 'bundled'))('%s: everything bundled but Node built-ins and the credential providers Lambda never loads', async (fn) => {
    const { externals, inputs } = await metafile(fn);
    expect(externals.filter((p) => !LAZY_CREDENTIAL_PROVIDERS.includes(p))).toEqual([]);
    // The SDK's ES-module build is what gets bundled (tree-shaken), not its CommonJS build.
    expect(inputs.some((f) => /@aws-sdk\/client-\w+\/dist-es\//.test(f))).toBe(true);
    expect(inputs.filter((f) => f.includes('/dist-cjs/'))).toEqual([]);
  });

  it.each(bundles.filter((fn) => SDK_SOURCE[fn] === 'runtime'))('%s: the SDK left to the runtime, everything else bundled', async (fn) => {
    const { externals, inputs } = await metafile(fn);
    expect(externals.length).toBeGreaterThan(0);
    expect(externals.filter((p) => !p.startsWith('@aws-sdk/'))).toEqual([]);
    expect(inputs.filter((f) => f.includes('node_modules/@aws-sdk/'))).toEqual([]);
  });

  it('backtest: only the DynamoDB clients are required at init (S3 through shared/lambda/s3.ts, no Kinesis or SQS from the barrel)', async () => {
    const { externals } = await metafile('backtest');
    expect(externals.sort()).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);
  });
});
