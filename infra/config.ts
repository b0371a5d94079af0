import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigError } from '../shared/util/errors.ts';

export type HotPath = 'nats' | 'kafka';
export type EnvName = 'dev' | 'prod';

export const HOT_PATHS: readonly HotPath[] = ['nats', 'kafka'];
export const ENV_NAMES: readonly EnvName[] = ['dev', 'prod'];

/** Everything that differs between dev and prod, in one place so a reviewer sees the whole difference. */
export interface EnvConfig {
  readonly envName: EnvName;
  /** Prefix of every physical name, so dev and prod can share an account. */
  readonly prefix: string;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
  readonly pointInTimeRecovery: boolean;
  readonly natGateways: number;
  /** Interface endpoints cost per AZ-hour; gateway endpoints (DynamoDB, S3) are free and always on. */
  readonly interfaceEndpoints: boolean;
  readonly streamRetention: Duration;
  /** Caps the order plane so a burst cannot exhaust DynamoDB capacity or the account's concurrency. */
  readonly orderReservedConcurrency: number;
  /** Keeps nightly backtests from starving the hot path of account concurrency. */
  readonly backtestReservedConcurrency: number;
  readonly eventSourceRetryAttempts: number;
  readonly ec2TerminationProtection: boolean;
  readonly cacheSnapshotRetentionDays: number;
  readonly alarms: AlarmThresholds;
}

export interface AlarmThresholds {
  readonly lambdaErrors: number;
  readonly lambdaThrottles: number;
  readonly iteratorAgeMs: number;
  readonly dlqDepth: number;
  readonly riskRejectsPer5Min: number;
  readonly evaluationPeriods: number;
}

const ENVIRONMENTS: Readonly<Record<EnvName, EnvConfig>> = {
  dev: {
    envName: 'dev',
    prefix: 'algoplanes-dev',
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: RetentionDays.ONE_WEEK,
    pointInTimeRecovery: false,
    natGateways: 1,
    interfaceEndpoints: false,
    streamRetention: Duration.hours(24),
    orderReservedConcurrency: 2,
    backtestReservedConcurrency: 1,
    eventSourceRetryAttempts: 3,
    ec2TerminationProtection: false,
    cacheSnapshotRetentionDays: 0,
    alarms: { lambdaErrors: 10, lambdaThrottles: 10, iteratorAgeMs: 300_000, dlqDepth: 10, riskRejectsPer5Min: 100, evaluationPeriods: 3 },
  },
  prod: {
    envName: 'prod',
    prefix: 'algoplanes-prod',
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: RetentionDays.THREE_MONTHS,
    pointInTimeRecovery: true,
    natGateways: 2,
    interfaceEndpoints: true,
    streamRetention: Duration.days(7),
    orderReservedConcurrency: 10,
    backtestReservedConcurrency: 2,
    eventSourceRetryAttempts: 10,
    ec2TerminationProtection: true,
    cacheSnapshotRetentionDays: 7,
    alarms: { lambdaErrors: 1, lambdaThrottles: 1, iteratorAgeMs: 60_000, dlqDepth: 1, riskRejectsPer5Min: 20, evaluationPeriods: 1 },
  },
};

export function envConfig(name: unknown): EnvConfig {
  if (typeof name !== 'string' || !ENV_NAMES.includes(name as EnvName)) {
    throw new ConfigError(`context "env" must be one of ${ENV_NAMES.join('|')}, got ${JSON.stringify(name)}`);
  }
  return ENVIRONMENTS[name as EnvName];
}

export function hotPath(value: unknown): HotPath {
  if (typeof value !== 'string' || !HOT_PATHS.includes(value as HotPath)) {
    throw new ConfigError(`context "hotPath" must be one of ${HOT_PATHS.join('|')}, got ${JSON.stringify(value)}`);
  }
  return value as HotPath;
}

/** Kafka topics of the contract (kafka hot path). MSK Serverless fixes the replication factor at 3. */
export const KAFKA_TOPICS = [
  { name: 'md.raw', partitions: 8, retention: Duration.hours(24) },
  { name: 'md.events', partitions: 8, retention: Duration.hours(24) },
  { name: 'strat.intents', partitions: 4, retention: Duration.days(7) },
  { name: 'ord.executions', partitions: 4, retention: Duration.days(30) },
] as const;

export type KafkaTopicName = (typeof KAFKA_TOPICS)[number]['name'];

export type PlaneName = 'data' | 'strategy' | 'order' | 'backtest';
export const PLANES: readonly PlaneName[] = ['data', 'strategy', 'order', 'backtest'];

/** Physical function names are fixed so the NATS bridge can be granted invoke without a cross-stack reference. */
export function functionName(env: EnvConfig, plane: PlaneName): string {
  return `${env.prefix}-${plane}`;
}

export function tableName(env: EnvConfig): string {
  return `${env.prefix}-main`;
}

/**
 * S3 names are global: account and region (pseudo parameters, resolved per stack) make them unique.
 * cdk-nag findings name them `<AWS::AccountId>`/`<AWS::Region>`, hence the overridable parts.
 */
export function resultsBucketName(env: EnvConfig, account: string = Aws.ACCOUNT_ID, region: string = Aws.REGION): string {
  return `${env.prefix}-results-${account}-${region}`;
}

export const METRICS_NAMESPACE = 'algoplanes';

/**
 * POWERTOOLS_SERVICE_NAME of a plane function. Powertools adds it to every EMF metric as the `service`
 * dimension next to the contract's `plane`, so dashboards and alarms must name both.
 */
export function serviceName(plane: PlaneName): string {
  return `algoplanes-${plane}`;
}
