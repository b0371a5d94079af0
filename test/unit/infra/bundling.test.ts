import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { LAZY_CREDENTIAL_PROVIDERS, planeEsbuildOptions } from '../../../infra/bundling.ts';
import { PLANES } from '../../../infra/config.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
// Required inside a try by the S3 multi-region signer; absent, it falls back to the JS signer.
const OPTIONAL = new Set(['@aws-sdk/signature-v4-crt']);

describe('plane function bundles', () => {
  const entries = [...PLANES.map((p) => join('functions', p, 'handler.ts')), join('functions', 'data', 'kafka-handler.ts')];
  it.each(entries)('%s: everything bundled but Node built-ins and the credential providers Lambda never loads', async (entry) => {
    const out = await build({ ...planeEsbuildOptions('node20'), sourcemap: false, entryPoints: [join(ROOT, entry)], write: false, metafile: true, outfile: 'handler.cjs' });
    const externals = new Set(Object.values(out.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)));
    const unexpected = [...externals].filter((p) => !BUILTINS.has(p) && !LAZY_CREDENTIAL_PROVIDERS.includes(p) && !OPTIONAL.has(p));
    expect(unexpected).toEqual([]);
    // The SDK's ES-module build is what gets bundled (tree-shaken), not its CommonJS build.
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((f) => /@aws-sdk\/client-\w+\/dist-es\//.test(f))).toBe(true);
    expect(inputs.filter((f) => f.includes('/dist-cjs/'))).toEqual([]);
  });
});
