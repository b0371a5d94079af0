import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, PLANES, serviceName, type EnvConfig, type HotPath, type PlaneName } from '../config.ts';

export interface ObservabilityStackProps extends StackProps {
  readonly config: EnvConfig;
  readonly hotPath: HotPath;
  readonly functions: Readonly<Record<PlaneName, lambda.IFunction>>;
  readonly dlq: sqs.IQueue;
  readonly intentsQueue: sqs.IQueue;
  readonly intentsDlq: sqs.IQueue;
  readonly scheduleDlq: sqs.IQueue;
  readonly ingestStream: kinesis.IStream;
  readonly eventsStream: kinesis.IStream;
}

/** Business metrics each plane emits (EMF, namespace `algoplanes`, dimensions `service` and `plane`), per the contract. */
export const PLANE_METRICS: Readonly<Record<PlaneName, readonly string[]>> = {
  data: ['IngestedEvents', 'QualityRejects', 'DlqMessages'],
  strategy: ['Signals', 'OrderIntents', 'DlqMessages'],
  order: ['Orders', 'Fills', 'RiskRejects', 'PnL', 'DlqMessages'],
  backtest: [],
};

const PERIOD = Duration.minutes(1);
const ALARM_PERIOD = Duration.minutes(5);

export function planeMetric(plane: PlaneName, metricName: string, period = PERIOD): cloudwatch.Metric {
  // PnL is a level, not a count: show where it ended each period.
  const statistic = metricName === 'PnL' ? cloudwatch.Stats.AVERAGE : cloudwatch.Stats.SUM;
  return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: serviceName(plane), plane }, statistic, period });
}

/** One dashboard per plane and alarms on failures, lag and dead letters, all notifying one encrypted topic. */
export class ObservabilityStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly dashboards: Readonly<Record<PlaneName, cloudwatch.Dashboard>>;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config } = props;

    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      alias: `alias/${config.prefix}-alarms`,
      description: 'Encrypts the alarm notification topic',
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy,
    });
    // CloudWatch publishes to the encrypted topic as a service principal, so it needs the key too.
    topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      topicName: `${config.prefix}-alarms`,
      displayName: `algoplanes ${config.envName} alarms`,
      masterKey: topicKey,
      enforceSSL: true,
    });
    const notify = new actions.SnsAction(this.alarmTopic);

    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(this, name, {
        alarmName: `${config.prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: config.alarms.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(notify);
      this.alarms.push(a);
      return a;
    };

    for (const plane of PLANES) {
      const fn = props.functions[plane];
      alarm(`${plane}-errors`, fn.metricErrors({ period: ALARM_PERIOD }), config.alarms.lambdaErrors, `${plane} Lambda errors`);
      alarm(`${plane}-throttles`, fn.metricThrottles({ period: ALARM_PERIOD }), config.alarms.lambdaThrottles, `${plane} Lambda throttles`);
    }
    for (const plane of ['data', 'strategy'] as const) {
      alarm(`${plane}-iterator-age`, lambdaMetric(props.functions[plane], 'IteratorAge', cloudwatch.Stats.MAXIMUM, ALARM_PERIOD), config.alarms.iteratorAgeMs, `${plane} Lambda is falling behind its Kinesis stream`);
      if (props.hotPath === 'kafka') {
        alarm(`${plane}-offset-lag`, lambdaMetric(props.functions[plane], 'OffsetLag', cloudwatch.Stats.MAXIMUM, ALARM_PERIOD), config.alarms.iteratorAgeMs, `${plane} Kafka consumer offset lag (records)`);
      }
    }
    const dlqs: Record<string, sqs.IQueue> = { dlq: props.dlq, 'intents-dlq': props.intentsDlq, 'schedule-dlq': props.scheduleDlq };
    for (const [name, queue] of Object.entries(dlqs)) {
      alarm(`${name}-depth`, queue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }), config.alarms.dlqDepth, `messages waiting in ${name}`);
    }
    alarm('risk-rejects', planeMetric('order', 'RiskRejects', ALARM_PERIOD), config.alarms.riskRejectsPer5Min, 'pre-trade risk is rejecting an unusual number of intents');

    const streams: Partial<Record<PlaneName, kinesis.IStream>> = { data: props.ingestStream, strategy: props.eventsStream };
    const planeDlqs: Record<PlaneName, sqs.IQueue[]> = {
      data: [props.dlq],
      strategy: [props.dlq],
      order: [props.intentsDlq, props.dlq],
      backtest: [props.scheduleDlq, props.dlq],
    };
    const dashboards = {} as Record<PlaneName, cloudwatch.Dashboard>;
    for (const plane of PLANES) {
      const fn = props.functions[plane];
      const dash = new cloudwatch.Dashboard(this, `${plane}Dashboard`, {
        dashboardName: `${config.prefix}-${plane}-plane`,
        defaultInterval: Duration.hours(3),
      });
      const business = PLANE_METRICS[plane].map(
        (m) => new cloudwatch.GraphWidget({ title: m, left: [planeMetric(plane, m)], width: 8, height: 6 }),
      );
      const lag: cloudwatch.IWidget[] = [];
      const stream = streams[plane];
      if (stream) {
        lag.push(
          new cloudwatch.GraphWidget({
            title: 'Kinesis iterator age (ms)',
            left: [stream.metricGetRecordsIteratorAgeMilliseconds({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }), lambdaMetric(fn, 'IteratorAge', cloudwatch.Stats.MAXIMUM, PERIOD)],
            width: 8,
            height: 6,
          }),
        );
        if (props.hotPath === 'kafka') {
          lag.push(new cloudwatch.GraphWidget({ title: 'Kafka offset lag', left: [lambdaMetric(fn, 'OffsetLag', cloudwatch.Stats.MAXIMUM, PERIOD)], width: 8, height: 6 }));
        }
      }
      if (plane === 'order') {
        lag.push(new cloudwatch.GraphWidget({ title: 'Oldest intent (s)', left: [props.intentsQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD })], width: 8, height: 6 }));
      }
      dash.addWidgets(
        new cloudwatch.TextWidget({ markdown: `# ${plane} plane (${config.envName}, ${props.hotPath})`, width: 24, height: 1 }),
        ...business,
        new cloudwatch.GraphWidget({ title: 'Lambda errors / throttles', left: [fn.metricErrors({ period: PERIOD }), fn.metricThrottles({ period: PERIOD })], width: 8, height: 6 }),
        new cloudwatch.GraphWidget({ title: 'Lambda duration p99 (ms)', left: [fn.metricDuration({ period: PERIOD, statistic: cloudwatch.Stats.p(99) })], width: 8, height: 6 }),
        new cloudwatch.GraphWidget({
          title: 'DLQ depth',
          left: planeDlqs[plane].map((q) => q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM })),
          width: 8,
          height: 6,
        }),
        ...lag,
      );
      dashboards[plane] = dash;
    }
    this.dashboards = dashboards;
  }
}

function lambdaMetric(fn: lambda.IFunction, metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap: { FunctionName: fn.functionName }, statistic, period });
}
