import { Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { KinesisEventSource, ManagedKafkaEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { METRICS_NAMESPACE, functionName, resultsBucketName, serviceName, tableName, type EnvConfig, type HotPath, type KafkaTopicName, type PlaneName } from '../config.ts';
import { PLANE_BUNDLING, externalModules, type FunctionBundle } from '../bundling.ts';
import { streamMappingOptions } from './ingestion.ts';
import { kafkaClientStatements } from './messaging.ts';

/** functions/<plane>/handler.ts, and the data plane's kafka-hot-path entry (MSK in and out). */
export type HandlerEntries = Readonly<Record<PlaneName | 'dataKafka', string>>;

export interface PlanesStackProps extends StackProps {
  readonly config: EnvConfig;
  readonly hotPath: HotPath;
  /** Absolute or cwd-relative paths of the handler entries. */
  readonly entries: HandlerEntries;
  /** Directory holding package-lock.json; esbuild resolves dependencies from here. */
  readonly projectRoot: string;
  readonly vpc: ec2.IVpc;
  readonly lambdaSecurityGroup: ec2.ISecurityGroup;
  readonly redisUrl: string;
  readonly brokerSecret: secretsmanager.ISecret;
  readonly ingestStream: kinesis.IStream;
  readonly eventsStream: kinesis.IStream;
  /** Kafka hot path only. */
  readonly kafkaClusterArn?: string;
}

/** The four plane functions, the intents FIFO queue and the dead-letter queues, wired per the AWS contract. */
export class PlanesStack extends Stack {
  readonly functions: Readonly<Record<PlaneName, nodejs.NodejsFunction>>;
  readonly intentsQueue: sqs.Queue;
  readonly intentsDlq: sqs.Queue;
  /** Poison stream/Kafka records and quarantined input (DLQ_URL); also the on-failure destination. */
  readonly dlq: sqs.Queue;
  private readonly config: EnvConfig;

  constructor(scope: Construct, id: string, props: PlanesStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    const retention = config.envName === 'prod' ? Duration.days(14) : Duration.days(4);
    // Imported by their fixed names so grants name them without cross-stack export tokens.
    const table = dynamodb.Table.fromTableAttributes(this, 'Table', { tableName: tableName(config), globalIndexes: ['gsi1'] });
    const resultsBucket = s3.Bucket.fromBucketName(this, 'Results', resultsBucketName(config));

    this.dlq = new sqs.Queue(this, 'Dlq', {
      queueName: `${config.prefix}-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: config.removalPolicy,
    });
    this.intentsDlq = new sqs.Queue(this, 'IntentsDlq', {
      queueName: `${config.prefix}-intents-dlq.fifo`,
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: config.removalPolicy,
    });
    for (const q of [this.dlq, this.intentsDlq]) {
      Validations.of(q).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'this queue is itself a dead-letter queue' });
    }

    const orderTimeout = Duration.seconds(30);
    this.intentsQueue = new sqs.Queue(this, 'Intents', {
      queueName: `${config.prefix}-intents.fifo`,
      fifo: true,
      // The dedup id is the clientOrderId, so a re-sent decision is dropped even if its body differs.
      contentBasedDeduplication: false,
      // FIFO throughput is per message group (account#symbol), not per queue.
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: retention,
      // AWS guidance for SQS event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(orderTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.intentsDlq, maxReceiveCount: 5 },
      removalPolicy: config.removalPolicy,
    });

    const commonEnv: Record<string, string> = {
      TABLE_NAME: table.tableName,
      MARKET_EVENTS_STREAM: props.eventsStream.streamName,
      INTENTS_QUEUE_URL: this.intentsQueue.queueUrl,
      DLQ_URL: this.dlq.queueUrl,
      RESULTS_BUCKET: resultsBucket.bucketName,
      REDIS_URL: props.redisUrl,
      ACCOUNT_ID: DEFAULTS.accountId,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      MAX_POSITION_SIZE: String(DEFAULTS.risk.maxPositionQty),
      MAX_GROSS_EXPOSURE: String(DEFAULTS.risk.maxGrossExposure),
      MAX_NET_EXPOSURE: String(DEFAULTS.risk.maxNetExposure),
      MAX_DAILY_LOSS: String(DEFAULTS.risk.maxDailyLoss),
      ENABLE_LIVE_TRADING: 'false',
      HOT_PATH: props.hotPath,
      ...(props.kafkaClusterArn ? { KAFKA_CLUSTER_ARN: props.kafkaClusterArn } : {}),
    };

    const makeFunction = (
      plane: PlaneName,
      opts: { memoryMb: number; timeout: Duration; inVpc: boolean; reserved?: number; extraEnv?: Record<string, string> },
    ): nodejs.NodejsFunction => {
      const logGroup = new logs.LogGroup(this, `${plane}Logs`, {
        logGroupName: `/aws/lambda/${functionName(config, plane)}`,
        retention: config.logRetention,
        removalPolicy: config.removalPolicy,
      });
      const bundle: FunctionBundle = plane === 'data' && props.kafkaClusterArn ? 'data-kafka' : plane;
      const fn = new nodejs.NodejsFunction(this, `${plane}Fn`, {
        functionName: functionName(config, plane),
        description: `algoplanes ${plane} plane`,
        entry: bundle === 'data-kafka' ? props.entries.dataKafka : props.entries[plane],
        handler: 'handler',
        projectRoot: props.projectRoot,
        depsLockFilePath: `${props.projectRoot}/package-lock.json`,
        // Node 24: AWS deprecated the nodejs20.x runtime in 2026; the handlers use nothing newer than Node 20 has.
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: opts.memoryMb,
        timeout: opts.timeout,
        tracing: lambda.Tracing.ACTIVE,
        logGroup,
        reservedConcurrentExecutions: opts.reserved,
        environment: { ...commonEnv, NODE_OPTIONS: PLANE_BUNDLING.nodeOptions, POWERTOOLS_SERVICE_NAME: serviceName(plane), ...opts.extraEnv },
        ...(opts.inVpc ? { vpc: props.vpc, vpcSubnets: { subnetGroupName: 'private' }, securityGroups: [props.lambdaSecurityGroup] } : {}),
        bundling: {
          forceDockerBundling: false,
          minify: PLANE_BUNDLING.minify,
          sourceMap: PLANE_BUNDLING.sourceMap,
          sourcesContent: PLANE_BUNDLING.sourcesContent,
          target: PLANE_BUNDLING.target,
          // CommonJS: no ESM-to-CJS export scan at load.
          format: nodejs.OutputFormat.CJS,
          mainFields: [...PLANE_BUNDLING.mainFields],
          externalModules: externalModules(bundle),
        },
      });
      this.acknowledgeFunctionFindings(fn, opts.inVpc);
      return fn;
    };

    const data = makeFunction('data', { memoryMb: 1024, timeout: Duration.seconds(60), inVpc: true });
    const strategy = makeFunction('strategy', { memoryMb: 1024, timeout: Duration.seconds(60), inVpc: true });
    const order = makeFunction('order', {
      memoryMb: 512,
      timeout: orderTimeout,
      inVpc: true,
      reserved: config.orderReservedConcurrency,
      extraEnv: { BROKER_SECRET_ARN: props.brokerSecret.secretArn },
    });
    const backtest = makeFunction('backtest', {
      memoryMb: 2048,
      timeout: Duration.minutes(15),
      // Reads and writes only S3 and DynamoDB (gateway endpoints or public APIs): no ENIs needed.
      inVpc: false,
      reserved: config.backtestReservedConcurrency,
    });
    this.functions = { data, strategy, order, backtest };

    // Least privilege: each plane gets exactly what its contract says it touches.
    props.eventsStream.grantWrite(data);
    for (const fn of [data, strategy, order]) this.dlq.grantSendMessages(fn);
    // The data plane keeps no state in the table: it only forwards events and quarantines.
    for (const fn of [strategy, order, backtest]) {
      table.grantReadWriteData(fn);
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${tableName(config)}/index/*]`,
        reason: "grant covers the table's own indexes (gsi1) only",
      });
    }
    this.intentsQueue.grantSendMessages(strategy);
    props.brokerSecret.grantRead(order);
    // Get/put objects, no deletes or multipart aborts; ListBucket only so a missing dataKey reads as 404, not 403.
    backtest.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [resultsBucket.arnForObjects('*')] }));
    backtest.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [resultsBucket.bucketArn] }));
    Validations.of(backtest).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${resultsBucketName(config, '<AWS::AccountId>', '<AWS::Region>')}/*]`,
      reason: 'backtest reports are keyed by run id, unknown until the run',
    });

    const onFailure = new SqsDlq(this.dlq);
    data.addEventSource(new KinesisEventSource(props.ingestStream, streamMappingOptions(config, onFailure)));
    strategy.addEventSource(new KinesisEventSource(props.eventsStream, streamMappingOptions(config, onFailure)));
    order.addEventSource(
      new SqsEventSource(this.intentsQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // Matches the reserved concurrency so the poller never gets throttled into burning receive counts.
        maxConcurrency: Math.max(2, config.orderReservedConcurrency),
      }),
    );
    backtest.configureAsyncInvoke({
      retryAttempts: 1,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.dlq),
    });

    if (props.kafkaClusterArn) {
      data.addEnvironment('KAFKA_BROKERS', this.kafkaBootstrapBrokers(props.kafkaClusterArn));
      this.addKafkaConsumer(data, props.kafkaClusterArn, { topic: 'md.raw', write: ['md.events'] }, onFailure);
      this.addKafkaConsumer(strategy, props.kafkaClusterArn, { topic: 'md.events', write: [] }, onFailure);
    }
  }

  /** MSK Serverless exposes its IAM bootstrap brokers only through the API: read once per deployment. */
  private kafkaBootstrapBrokers(clusterArn: string): string {
    const lookup = new cr.AwsCustomResource(this, 'KafkaBootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: clusterArn },
        physicalResourceId: cr.PhysicalResourceId.of(`${clusterArn}-bootstrap`),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [clusterArn] })]),
      installLatestAwsSdk: false,
    });
    // The provider is a stack-level singleton, named after this UUID.
    const provider = Stack.of(this).node.findChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CloudWatch Logs write access for CDK's custom-resource provider, as managed by Lambda",
    });
    return lookup.getResponseField('BootstrapBrokerStringSaslIam');
  }

  private addKafkaConsumer(
    fn: nodejs.NodejsFunction,
    clusterArn: string,
    access: { topic: KafkaTopicName; write: readonly KafkaTopicName[] },
    onFailure: SqsDlq,
  ): void {
    const group = fn.node.id.replace(/Fn$/, '');
    const consumerGroupId = `${Stack.of(this).stackName}-${group}`.toLowerCase();
    for (const statement of kafkaClientStatements(clusterArn, { read: [access.topic], write: access.write, group: consumerGroupId })) {
      fn.addToRolePolicy(statement);
    }
    fn.addEventSource(
      new ManagedKafkaEventSource({
        clusterArn,
        topic: access.topic,
        consumerGroupId,
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 500,
        maxBatchingWindow: Duration.seconds(1),
        // On-failure destinations and error controls on Kafka mappings need provisioned pollers.
        provisionedPollerConfig: { minimumPollers: 1, maximumPollers: this.config.envName === 'prod' ? 10 : 2 },
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: this.config.eventSourceRetryAttempts,
        onFailure,
      }),
    );
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaMSKExecutionRole]',
      reason: 'added by ManagedKafkaEventSource: lets the MSK poller describe the cluster and manage its ENIs',
    });
  }

  private acknowledgeFunctionFindings(fn: nodejs.NodejsFunction, inVpc: boolean): void {
    Validations.of(fn).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CloudWatch Logs write access for the function log group, as managed by Lambda',
      },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions' },
    );
    if (inVpc) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'ENI management for VPC-attached Lambdas; the action set is fixed by Lambda',
      });
    }
  }
}
