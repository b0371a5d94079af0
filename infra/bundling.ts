import type { BuildOptions } from 'esbuild';

/**
 * How the plane functions are bundled (all four alike). The planes stack (NodejsFunction) and
 * `npm run bench` (bench/bundles.ts) both read this, so the bench sizes and times the deployed bundle.
 */
export interface PlaneBundling {
  readonly mainFields: readonly string[];
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly sourcesContent: boolean;
  readonly target: string;
  readonly format: 'cjs';
  /** The functions' NODE_OPTIONS: part of what a cold start pays for. */
  readonly nodeOptions: string;
}

/**
 * The credential providers the SDK's default chain imports only when there are no credentials in the
 * environment; Lambda always sets them, so these never load there and need not be bundled.
 */
export const LAZY_CREDENTIAL_PROVIDERS: readonly string[] = [
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
];

/** The bundles the stacks deploy: one per plane, plus the data plane's kafka-hot-path entry. */
export type FunctionBundle = 'data' | 'strategy' | 'order' | 'backtest' | 'data-kafka';

/**
 * Where a function's AWS SDK clients come from. Bundled, from the SDK's ES-module builds, esbuild
 * keeps only the commands and protocol the function uses; the runtime's copy is whole CommonJS
 * clients, most of a cold start's parse time. But the backtest function (engine, Parquet reader,
 * DynamoDB) and the kafka data function (kafkajs) would pass 500 KB with the SDK inside, so they load
 * the runtime's copy, and each runtime client they import costs its load at init: the backtest
 * function reaches S3 through a small SigV4 `fetch` client (shared/lambda/s3.ts) instead of
 * @aws-sdk/client-s3 (~30 ms of init), and imports shared/lambda modules directly rather than the
 * barrel, whose Kinesis and SQS requires esbuild keeps even unused (~8 ms).
 */
export const SDK_SOURCE: Readonly<Record<FunctionBundle, 'bundled' | 'runtime'>> = {
  data: 'bundled',
  strategy: 'bundled',
  order: 'bundled',
  backtest: 'runtime',
  'data-kafka': 'runtime',
};

/** What a function leaves to the Lambda runtime instead of bundling. */
export function externalModules(fn: FunctionBundle): string[] {
  return SDK_SOURCE[fn] === 'bundled' ? [...LAZY_CREDENTIAL_PROVIDERS] : ['@aws-sdk/*'];
}

export const PLANE_BUNDLING: PlaneBundling = {
  // ES-module builds first, so whatever is bundled (SDK or not) is tree-shaken.
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  // Without sources the map is a third of the size; Node parses it at load under --enable-source-maps.
  sourcesContent: false,
  target: 'node24',
  format: 'cjs',
  nodeOptions: '--enable-source-maps',
};

/**
 * The same bundling as esbuild options, for building outside CDK (bench, tests). `target` is the Node
 * that will load the bundle: the repo's tools run on Node 20, the functions on Node 24.
 */
export function planeEsbuildOptions(fn: FunctionBundle, target: string): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    target,
    format: PLANE_BUNDLING.format,
    minify: PLANE_BUNDLING.minify,
    sourcemap: PLANE_BUNDLING.sourceMap,
    sourcesContent: PLANE_BUNDLING.sourcesContent,
    mainFields: [...PLANE_BUNDLING.mainFields],
    external: externalModules(fn),
    logLevel: 'silent',
  };
}
