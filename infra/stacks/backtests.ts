import { Duration, Stack, TimeZone, Validations, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { functionName, type EnvConfig } from '../config.ts';

export interface BacktestsStackProps extends StackProps {
  readonly config: EnvConfig;
}

/**
 * Nightly backtest of the default strategy on the daily bars dataset. The handler reads
 * `dataKey` from RESULTS_BUCKET and writes report.json/html/fills.csv back plus a summary item.
 */
export const NIGHTLY_BACKTEST_INPUT = {
  dataKey: 'datasets/bars/orcl-1995-2014_1d.csv',
  strategy: DEFAULTS.backtest.strategy,
  params: {},
  trigger: 'schedule',
} as const;

export class BacktestsStack extends Stack {
  readonly schedule: scheduler.Schedule;
  readonly scheduleDlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: BacktestsStackProps) {
    super(scope, id, props);
    const { config } = props;
    // By name, so the invoke grant reads as an ARN rather than a cross-stack export token.
    const backtestFunction = lambda.Function.fromFunctionName(this, 'Backtest', functionName(config, 'backtest'));

    this.scheduleDlq = new sqs.Queue(this, 'ScheduleDlq', {
      queueName: `${config.prefix}-backtest-schedule-dlq`,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: config.removalPolicy,
    });
    Validations.of(this.scheduleDlq).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'this queue is itself the scheduler dead-letter queue' });

    this.schedule = new scheduler.Schedule(this, 'Nightly', {
      scheduleName: `${config.prefix}-nightly-backtest`,
      description: 'Nightly backtest of the default strategy; results in S3 and DynamoDB',
      // After the US close and before the Asian open.
      schedule: scheduler.ScheduleExpression.cron({ minute: '30', hour: '2', weekDay: 'TUE-SAT', timeZone: TimeZone.ETC_UTC }),
      target: new LambdaInvoke(backtestFunction, {
        input: scheduler.ScheduleTargetInput.fromObject(NIGHTLY_BACKTEST_INPUT),
        deadLetterQueue: this.scheduleDlq,
        retryAttempts: 2,
        maxEventAge: Duration.hours(2),
      }),
    });
    // LambdaInvoke creates its role at stack level, outside the schedule's subtree.
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${functionName(config, 'backtest')}:*]`,
      reason: 'LambdaInvoke grants the function and its versions/aliases; only the backtest function is named',
    });
  }
}
