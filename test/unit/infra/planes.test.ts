import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { AlgoplanesStacks } from '../../../infra/index.ts';
import { buildTestApp } from './helpers.ts';

const CONTRACT_ENV = [
  'TABLE_NAME',
  'MARKET_EVENTS_STREAM',
  'INTENTS_QUEUE_URL',
  'DLQ_URL',
  'RESULTS_BUCKET',
  'REDIS_URL',
  'ACCOUNT_ID',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'MAX_POSITION_SIZE',
  'MAX_GROSS_EXPOSURE',
  'MAX_NET_EXPOSURE',
  'MAX_DAILY_LOSS',
  'ENABLE_LIVE_TRADING',
];

type Resource = { Type: string; Properties: Record<string, unknown> };

function functionsByName(template: Template): Record<string, { id: string; props: Record<string, unknown> }> {
  const out: Record<string, { id: string; props: Record<string, unknown> }> = {};
  for (const [id, r] of Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, Resource>)) {
    // CDK's custom-resource provider (kafka hot path) has no name of ours.
    if (r.Properties.FunctionName === undefined) continue;
    out[String(r.Properties.FunctionName)] = { id, props: r.Properties };
  }
  return out;
}

/** Every IAM policy statement in every stack, with the roles it is attached to. */
function allStatements(stacks: AlgoplanesStacks): { roles: unknown; action: string[]; resource: unknown }[] {
  const out: { roles: unknown; action: string[]; resource: unknown }[] = [];
  for (const stack of Object.values(stacks).filter((s): s is Stack => s instanceof Stack)) {
    for (const r of Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy') as Record<string, Resource>)) {
      const doc = r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] };
      for (const st of doc.Statement) out.push({ roles: r.Properties.Roles, action: ([] as string[]).concat(st.Action), resource: st.Resource });
    }
  }
  return out;
}

describe.each(['nats', 'kafka'] as const)('planes stack (%s hot path)', (hotPath) => {
  const stacks = buildTestApp('dev', hotPath);
  const template = Template.fromStack(stacks.planes);
  const fns = functionsByName(template);

  it('builds the four plane functions for arm64 on Node 24', () => {
    expect(Object.keys(fns).sort()).toEqual(['algoplanes-dev-backtest', 'algoplanes-dev-data', 'algoplanes-dev-order', 'algoplanes-dev-strategy']);
    for (const { props } of Object.values(fns)) {
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Runtime).toBe('nodejs24.x');
      expect(props.Handler).toBe('index.handler');
    }
  });

  it('sets every contract environment variable, and the broker secret ARN on the order function only', () => {
    for (const [name, { props }] of Object.entries(fns)) {
      const vars = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const key of CONTRACT_ENV) expect(vars, `${name} ${key}`).toHaveProperty(key);
      expect(vars.POWERTOOLS_METRICS_NAMESPACE).toBe('algoplanes');
      expect(vars.ENABLE_LIVE_TRADING).toBe('false');
      expect(vars.HOT_PATH).toBe(hotPath);
      expect('BROKER_SECRET_ARN' in vars).toBe(name === 'algoplanes-dev-order');
      expect('KAFKA_CLUSTER_ARN' in vars).toBe(hotPath === 'kafka');
    }
  });

  it('reserves concurrency for the order and backtest functions', () => {
    expect(fns['algoplanes-dev-order'].props.ReservedConcurrentExecutions).toBe(2);
    expect(fns['algoplanes-dev-backtest'].props.ReservedConcurrentExecutions).toBe(1);
    expect(fns['algoplanes-dev-data'].props.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('has the intents FIFO queue with explicit dedup ids and a FIFO DLQ after 5 receives', () => {
    const dlqId = Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'algoplanes-dev-intents-dlq.fifo' } }))[0];
    expect(dlqId).toBeDefined();
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'algoplanes-dev-intents-dlq.fifo', FifoQueue: true });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'algoplanes-dev-intents.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'algoplanes-dev-dlq', FifoQueue: Match.absent() });
  });

  it('feeds the order function from the intents queue with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fns['algoplanes-dev-order'].id },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Intents'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('feeds data and strategy from Kinesis with bisect, partial failures and the on-failure DLQ', () => {
    const dlqArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Dlq'), 'Arn'] };
    for (const [plane, stream] of [
      ['data', 'MarketIngest'],
      ['strategy', 'MarketEvents'],
    ]) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fns[`algoplanes-dev-${plane}`].id },
        EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp(`Ingestion.*${stream}`) },
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: dlqArn } },
        MaximumRetryAttempts: 3,
        StartingPosition: 'TRIM_HORIZON',
      });
    }
  });

  it(hotPath === 'kafka' ? 'consumes md.raw and md.events through MSK mappings with IAM grants' : 'has no Kafka mappings', () => {
    const kafka = template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { Topics: Match.anyValue() } });
    if (hotPath === 'nats') {
      expect(kafka).toEqual({});
      return;
    }
    expect(Object.values(kafka).map((m) => (m as Resource).Properties.Topics).sort()).toEqual([['md.events'], ['md.raw']]);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fns['algoplanes-dev-data'].id },
      Topics: ['md.raw'],
      EventSourceArn: { 'Fn::ImportValue': Match.stringLikeRegexp('Messaging.*Cluster') },
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'algoplanes-dev-planes-data' },
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 2 },
    });
    const reads = allStatements(stacks).filter((s) => s.action.includes('kafka-cluster:ReadData'));
    expect(JSON.stringify(reads.map((s) => s.resource))).toContain('/md.raw');
    expect(JSON.stringify(reads.map((s) => s.resource))).toContain('/md.events');
    const writes = allStatements(stacks).filter((s) => s.action.includes('kafka-cluster:WriteData'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0].roles)).toContain('dataFnServiceRole');
    // The data function publishes to md.events itself, over the cluster's IAM bootstrap brokers.
    const dataEnv = (fns['algoplanes-dev-data'].props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.stringify(dataEnv.KAFKA_BROKERS)).toMatch(/KafkaBootstrapBrokers.*BootstrapBrokerStringSaslIam/);
    // The lookup's provider may call GetBootstrapBrokers on the cluster and nothing else.
    const lookup = allStatements(stacks).filter((s) => JSON.stringify(s.roles).includes('AWS679f53fac002430cb0da5b7982bd2287'));
    expect(lookup.map((s) => s.action)).toEqual([['kafka:GetBootstrapBrokers']]);
    expect(JSON.stringify(lookup[0].resource)).toMatch(/ClusterArn/);
  });

  it('grants the broker secret to the order function and nothing else', () => {
    const secretReads = allStatements(stacks).filter((s) => s.action.includes('secretsmanager:GetSecretValue'));
    expect(secretReads).toHaveLength(1);
    expect(JSON.stringify(secretReads[0].roles)).toMatch(/orderFnServiceRole/);
  });

  it('gives the table to strategy, order and backtest but not to the stateless data plane', () => {
    const writers = allStatements(stacks)
      .filter((s) => s.action.includes('dynamodb:PutItem'))
      .map((s) => JSON.stringify(s.roles).match(/(\w+)FnServiceRole/)?.[1])
      .sort();
    expect(writers).toEqual(['backtest', 'order', 'strategy']);
  });

  it('lets only the strategy function send intents and only the data function write market events', () => {
    const sends = allStatements(stacks).filter((s) => s.action.includes('sqs:SendMessage') && JSON.stringify(s.resource).includes('Intents'));
    expect(sends.map((s) => JSON.stringify(s.roles))).toEqual([expect.stringMatching(/strategyFnServiceRole/)]);
    const puts = allStatements(stacks).filter((s) => s.action.includes('kinesis:PutRecords'));
    expect(puts.map((s) => JSON.stringify(s.roles))).toEqual([expect.stringMatching(/dataFnServiceRole/)]);
  });
});
