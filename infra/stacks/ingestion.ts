import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { StartingPosition, type IEventSourceDlq } from 'aws-cdk-lib/aws-lambda';
import type { KinesisEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import type { EnvConfig } from '../config.ts';

export interface IngestionStackProps extends StackProps {
  readonly config: EnvConfig;
}

/**
 * The Kinesis streams MARKET_INGEST (raw venue records) and MARKET_EVENTS (canonical events).
 * Their event source mappings (bisect on error, on-failure DLQ, partial batch failures) are built by
 * `streamMappingOptions` and attached in the planes stack next to the functions they feed: a mapping
 * here would make this stack depend on the planes stack, which already depends on it for the names.
 */
export class IngestionStack extends Stack {
  readonly ingestStream: kinesis.Stream;
  readonly eventsStream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config } = props;

    const stream = (logicalId: string, name: string): kinesis.Stream =>
      new kinesis.Stream(this, logicalId, {
        streamName: `${config.prefix}-${name}`,
        streamMode: kinesis.StreamMode.ON_DEMAND,
        // The AWS managed key (aws/kinesis): KMS encryption without per-consumer key grants or CMK request costs.
        encryption: kinesis.StreamEncryption.MANAGED,
        retentionPeriod: config.streamRetention,
        removalPolicy: config.removalPolicy,
      });
    this.ingestStream = stream('MarketIngest', 'market-ingest');
    this.eventsStream = stream('MarketEvents', 'market-events');
  }
}

/**
 * How a plane function consumes a market stream: split failing batches to isolate a poison record,
 * report per-record failures so good records are not retried, and send what still fails to the DLQ.
 */
export function streamMappingOptions(config: EnvConfig, onFailure: IEventSourceDlq): KinesisEventSourceProps {
  return {
    startingPosition: StartingPosition.TRIM_HORIZON,
    batchSize: 500,
    maxBatchingWindow: Duration.seconds(1),
    bisectBatchOnError: true,
    reportBatchItemFailures: true,
    retryAttempts: config.eventSourceRetryAttempts,
    maxRecordAge: Duration.hours(1),
    // One batch per shard keeps per-symbol (partition key) ordering, which bars and OFI rely on.
    parallelizationFactor: 1,
    onFailure,
  };
}
