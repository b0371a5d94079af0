import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers.ts';

describe('backtests stack', () => {
  const template = Template.fromStack(buildTestApp('dev', 'nats').backtests);

  it('invokes the backtest function on a nightly cron with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'algoplanes-dev-nightly-backtest',
      ScheduleExpression: 'cron(30 2 ? * TUE-SAT *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::Join': ['', Match.arrayWith([':function:algoplanes-dev-backtest'])] },
        Input: Match.serializedJson(Match.objectLike({ strategy: 'sma-cross', dataKey: Match.stringLikeRegexp('^datasets/') })),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ScheduleDlq'), 'Arn'] } },
      },
    });
  });
});

describe.each(['nats', 'kafka'] as const)('observability stack (%s)', (hotPath) => {
  const dev = buildTestApp('dev', hotPath).observability;
  const template = Template.fromStack(dev);
  const body = (plane: string): string => {
    const dash = Object.values(template.findResources('AWS::CloudWatch::Dashboard', { Properties: { DashboardName: `algoplanes-dev-${plane}-plane` } }))[0] as {
      Properties: { DashboardBody: unknown };
    };
    return JSON.stringify(Stack.of(dev).resolve(dash.Properties.DashboardBody));
  };

  it('has one dashboard per plane with its business metrics, Lambda health and DLQ depth', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 4);
    const expected: Record<string, string[]> = {
      data: ['IngestedEvents', 'QualityRejects', 'IteratorAge', 'GetRecords.IteratorAgeMilliseconds'],
      strategy: ['Signals', 'OrderIntents', 'IteratorAge'],
      order: ['Orders', 'Fills', 'RiskRejects', 'PnL', 'ApproximateAgeOfOldestMessage'],
      backtest: [],
    };
    for (const [plane, metrics] of Object.entries(expected)) {
      const text = body(plane);
      for (const m of [...metrics, 'Errors', 'Throttles', 'p99', 'ApproximateNumberOfMessagesVisible']) expect(text, `${plane}: ${m}`).toContain(m);
    }
    // Powertools adds `service` next to the contract's `plane`; a metric missing either would stay empty.
    expect(body('order')).toContain('\\"Orders\\",\\"plane\\",\\"order\\",\\"service\\",\\"algoplanes-order\\"');
    expect(body('data').includes('OffsetLag')).toBe(hotPath === 'kafka');
  });

  it('sends every alarm to the KMS-encrypted, SSL-only alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as { Properties: { AlarmActions: unknown[] } }[];
    // 4 functions x (errors, throttles) + 2 iterator ages + 3 DLQs + risk rejects, + 2 offset lags on Kafka.
    expect(alarms.length).toBe(hotPath === 'kafka' ? 16 : 14);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
  });

  it('uses tighter thresholds in prod than in dev', () => {
    const prod = Template.fromStack(buildTestApp('prod', hotPath).observability);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'algoplanes-dev-order-errors', Threshold: 10, EvaluationPeriods: 3 });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'algoplanes-prod-order-errors', Threshold: 1, EvaluationPeriods: 1 });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'algoplanes-prod-intents-dlq-depth', Threshold: 1, MetricName: 'ApproximateNumberOfMessagesVisible' });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'algoplanes-prod-data-iterator-age', Threshold: 60_000, MetricName: 'IteratorAge' });
  });
});
