import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildAlgoplanes, type AlgoplanesStacks } from '../../../infra/index.ts';
import { PLANES } from '../../../infra/config.ts';

/**
 * A throwaway project root mirroring the repo layout (functions/<plane>/handler.ts, functions/data/kafka-handler.ts, shared/bridge/main.ts,
 * package-lock.json). NodejsFunction requires entries under the project root; bundling is skipped so
 * the stub contents never matter.
 */
export function stubProjectRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'algoplanes-infra-'));
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  for (const plane of PLANES) {
    mkdirSync(join(root, 'functions', plane), { recursive: true });
    writeFileSync(join(root, 'functions', plane, 'handler.ts'), 'export const handler = async () => undefined;\n');
  }
  writeFileSync(join(root, 'functions', 'data', 'kafka-handler.ts'), 'export const handler = async () => undefined;\n');
  mkdirSync(join(root, 'shared', 'bridge'), { recursive: true });
  writeFileSync(join(root, 'shared', 'bridge', 'main.ts'), 'export {};\n');
  return root;
}

// aws-cdk-lib's built-in CloudFormation schema validation takes ~30 s per app on this machine; the
// real `cdk synth` runs keep it on. cdk-nag and the template assertions below are unaffected.
process.env.CDK_VALIDATION = 'false';

const cache = new Map<string, AlgoplanesStacks>();

/** One app per (env, hotPath), built once per test file; bundling skipped via `aws:cdk:bundling-stacks`. */
export function buildTestApp(env: 'dev' | 'prod', hotPath: 'nats' | 'kafka', opts: { nag?: boolean } = {}): AlgoplanesStacks {
  const key = `${env}/${hotPath}/${opts.nag ?? false}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildAlgoplanes(app, { env, hotPath, projectRoot: stubProjectRoot(), nag: opts.nag });
  cache.set(key, stacks);
  return stacks;
}
