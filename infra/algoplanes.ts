import { resolve } from 'node:path';
import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PLANES, envConfig, hotPath as parseHotPath, type EnvConfig, type HotPath } from './config.ts';
import { BacktestsStack } from './stacks/backtests.ts';
import { IngestionStack } from './stacks/ingestion.ts';
import { KafkaMessagingStack, NatsMessagingStack } from './stacks/messaging.ts';
import { NetworkStack } from './stacks/network.ts';
import { ObservabilityStack } from './stacks/observability.ts';
import { PlanesStack, type HandlerEntries } from './stacks/planes.ts';
import { StorageStack } from './stacks/storage.ts';

export interface AlgoplanesOptions {
  readonly env: string;
  readonly hotPath: string;
  /** Repository root: holds package-lock.json and, by default, functions/ and shared/bridge/. */
  readonly projectRoot: string;
  readonly entries?: Partial<HandlerEntries>;
  readonly bridgeEntry?: string;
  /** Register cdk-nag AwsSolutions as a validation plugin (fails synthesis on unacknowledged findings). */
  readonly nag?: boolean;
}

export interface AlgoplanesStacks {
  readonly config: EnvConfig;
  readonly hotPath: HotPath;
  readonly network: NetworkStack;
  readonly messaging: NatsMessagingStack | KafkaMessagingStack;
  readonly storage: StorageStack;
  readonly ingestion: IngestionStack;
  readonly planes: PlanesStack;
  readonly backtests: BacktestsStack;
  readonly observability: ObservabilityStack;
}

export function defaultEntries(projectRoot: string): HandlerEntries {
  const planes = Object.fromEntries(PLANES.map((p) => [p, resolve(projectRoot, 'functions', p, 'handler.ts')])) as Record<(typeof PLANES)[number], string>;
  return { ...planes, dataKafka: resolve(projectRoot, 'functions', 'data', 'kafka-handler.ts') };
}

/** Builds every stack of one environment and hot path into `app`. Stacks are env-agnostic (no lookups). */
export function buildAlgoplanes(app: App, opts: AlgoplanesOptions): AlgoplanesStacks {
  const config = envConfig(opts.env);
  const hotPath = parseHotPath(opts.hotPath);
  const entries: HandlerEntries = { ...defaultEntries(opts.projectRoot), ...opts.entries };
  const id = (name: string): string => `Algoplanes-${config.envName}-${name}`;
  const description = (what: string): string => `algoplanes ${config.envName}: ${what}`;

  const network = new NetworkStack(app, id('Network'), { config, hotPath, description: description('VPC and security groups') });
  const messaging =
    hotPath === 'nats'
      ? new NatsMessagingStack(app, id('Messaging'), {
          config,
          vpc: network.vpc,
          brokerSecurityGroup: network.brokerSecurityGroup,
          bridgeEntry: opts.bridgeEntry ?? resolve(opts.projectRoot, 'shared', 'bridge', 'main.ts'),
          description: description('NATS JetStream server and bridge'),
        })
      : new KafkaMessagingStack(app, id('Messaging'), {
          config,
          vpc: network.vpc,
          brokerSecurityGroup: network.brokerSecurityGroup,
          description: description('MSK Serverless cluster and topics'),
        });
  const storage = new StorageStack(app, id('Storage'), {
    config,
    vpc: network.vpc,
    cacheSecurityGroup: network.cacheSecurityGroup,
    description: description('DynamoDB table, cache, results bucket, broker secret'),
  });
  const ingestion = new IngestionStack(app, id('Ingestion'), { config, description: description('Kinesis market streams') });
  const planes = new PlanesStack(app, id('Planes'), {
    config,
    hotPath,
    entries,
    projectRoot: opts.projectRoot,
    vpc: network.vpc,
    lambdaSecurityGroup: network.lambdaSecurityGroup,
    redisUrl: storage.redisUrl,
    brokerSecret: storage.brokerSecret,
    ingestStream: ingestion.ingestStream,
    eventsStream: ingestion.eventsStream,
    kafkaClusterArn: messaging instanceof KafkaMessagingStack ? messaging.cluster.attrArn : undefined,
    description: description('plane Lambdas, intents FIFO queue, DLQs'),
  });
  // Resources referenced by fixed physical name carry no implicit dependency; declare it.
  planes.addStackDependency(storage, 'functions use the table and results bucket by name');
  if (messaging instanceof NatsMessagingStack) {
    messaging.addStackDependency(planes, 'the bridge invokes the plane Lambdas by name');
  }
  const backtests = new BacktestsStack(app, id('Backtests'), { config, description: description('nightly backtest schedule') });
  backtests.addStackDependency(planes, 'the schedule invokes the backtest Lambda by name');
  const observability = new ObservabilityStack(app, id('Observability'), {
    config,
    hotPath,
    functions: planes.functions,
    dlq: planes.dlq,
    intentsQueue: planes.intentsQueue,
    intentsDlq: planes.intentsDlq,
    scheduleDlq: backtests.scheduleDlq,
    ingestStream: ingestion.ingestStream,
    eventsStream: ingestion.eventsStream,
    description: description('dashboards and alarms'),
  });

  Tags.of(app).add('project', 'algoplanes');
  Tags.of(app).add('environment', config.envName);
  Tags.of(app).add('hot-path', hotPath);
  if (opts.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

  return { config, hotPath, network, messaging, storage, ingestion, planes, backtests, observability };
}
