import { Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { resultsBucketName, tableName, type EnvConfig } from '../config.ts';

export interface StorageStackProps extends StackProps {
  readonly config: EnvConfig;
  readonly vpc: ec2.IVpc;
  readonly cacheSecurityGroup: ec2.ISecurityGroup;
}

/** Stateful resources: the single table, the warm-state cache, backtest results and broker credentials. */
export class StorageStack extends Stack {
  readonly table: dynamodb.Table;
  readonly cache: elasticache.CfnServerlessCache;
  /** `rediss://host:port` (ElastiCache Serverless only accepts TLS). */
  readonly redisUrl: string;
  readonly resultsBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly brokerSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: StorageStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.table = new dynamodb.Table(this, 'Table', {
      tableName: tableName(config),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'ttl',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: config.pointInTimeRecovery },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: config.envName === 'prod',
      removalPolicy: config.removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
    });
    if (!config.pointInTimeRecovery) {
      Validations.of(this.table).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason: 'dev table holds disposable paper-trading state; PITR is enabled in prod via EnvConfig.pointInTimeRecovery',
      });
    }

    const privateSubnets = props.vpc.selectSubnets({ subnetGroupName: 'private' });
    this.cache = new elasticache.CfnServerlessCache(this, 'Cache', {
      serverlessCacheName: `${config.prefix}-cache`,
      engine: 'redis',
      majorEngineVersion: '7',
      description: 'Warm strategy state (cache only; DynamoDB is the source of truth)',
      subnetIds: privateSubnets.subnetIds,
      securityGroupIds: [props.cacheSecurityGroup.securityGroupId],
      cacheUsageLimits: {
        dataStorage: { maximum: config.envName === 'prod' ? 10 : 1, unit: 'GB' },
        ecpuPerSecond: { maximum: config.envName === 'prod' ? 50_000 : 5_000 },
      },
      snapshotRetentionLimit: config.cacheSnapshotRetentionDays,
    });
    this.cache.applyRemovalPolicy(config.removalPolicy);
    this.redisUrl = `rediss://${this.cache.attrEndpointAddress}:${this.cache.attrEndpointPort}`;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(config.envName === 'prod' ? 365 : 30) }],
      removalPolicy: config.removalPolicy,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'this is the access-log target bucket; logging it into itself would loop',
    });

    this.resultsBucket = new s3.Bucket(this, 'Results', {
      bucketName: resultsBucketName(config),
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'results/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(config.envName === 'prod' ? 90 : 7) }],
      removalPolicy: config.removalPolicy,
    });

    this.brokerSecret = new secretsmanager.Secret(this, 'BrokerCredentials', {
      secretName: `${config.prefix}/broker`,
      description: 'Broker API credentials; read by the order plane only',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ broker: 'paper', apiKey: 'paper' }),
        generateStringKey: 'apiSecret',
        excludePunctuation: true,
      },
      removalPolicy: config.removalPolicy,
    });
    Validations.of(this.brokerSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'broker API keys are issued and rotated on the broker side; a rotation Lambda cannot mint them',
    });
  }
}
