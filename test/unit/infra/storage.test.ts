import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers.ts';

describe('storage stack', () => {
  const dev = Template.fromStack(buildTestApp('dev', 'nats').storage);
  const prod = Template.fromStack(buildTestApp('prod', 'nats').storage);

  it('has the single table of the contract: pk/sk, TTL on ttl, on-demand, gsi1', () => {
    dev.resourceCountIs('AWS::DynamoDB::Table', 1);
    dev.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'algoplanes-dev-main',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'gsi1pk', AttributeType: 'S' },
        { AttributeName: 'gsi1sk', AttributeType: 'S' },
      ]),
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('turns on point-in-time recovery and retention in prod only', () => {
    prod.hasResourceProperties('AWS::DynamoDB::Table', { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true });
    prod.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    dev.hasResourceProperties('AWS::DynamoDB::Table', { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } });
    dev.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('runs ElastiCache Serverless Redis in the private subnets behind the cache security group', () => {
    dev.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'redis',
      ServerlessCacheName: 'algoplanes-dev-cache',
      SubnetIds: Match.anyValue(),
      SecurityGroupIds: [Match.anyValue()],
    });
  });

  it('keeps results encrypted, versioned, SSL-only and access-logged', () => {
    const buckets = dev.findResources('AWS::S3::Bucket', { Properties: { VersioningConfiguration: { Status: 'Enabled' } } });
    expect(Object.keys(buckets)).toHaveLength(1);
    const [resultsId, results] = Object.entries(buckets)[0];
    expect(results.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(results.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: expect.stringMatching(/^AccessLogs/) });
    expect(results.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    dev.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: resultsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps broker credentials in Secrets Manager', () => {
    dev.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'algoplanes-dev/broker', GenerateSecretString: Match.objectLike({ GenerateStringKey: 'apiSecret' }) });
  });
});
