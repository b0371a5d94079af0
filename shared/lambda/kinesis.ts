/** Canonical market events out through Kinesis. */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { makeEnvelope } from '../domain/envelope.ts';
import type { MarketEvent } from '../domain/index.ts';
import { AlgoplanesError } from '../util/errors.ts';
import { MARKET_SCHEMA_PREFIX, call, sendInChunks, type EventPublisher } from './senders.ts';

/** Canonical market events to Kinesis (partition key = symbol, so a symbol stays ordered). */
export class KinesisPublisher implements EventPublisher {
  constructor(private readonly opts: { client: KinesisClient; streamName: string; producer: string }) {
    if (!opts.streamName) throw new AlgoplanesError('CONFIG', 'KinesisPublisher: streamName is required');
  }

  async publish(events: readonly MarketEvent[], traceId: string): Promise<void> {
    const entries = events.map((e) => ({
      PartitionKey: e.symbol,
      Data: new TextEncoder().encode(JSON.stringify(makeEnvelope(`${MARKET_SCHEMA_PREFIX}${e.kind}.v1`, e, { producer: this.opts.producer, traceId }))),
    }));
    await sendInChunks(entries, 500, 'KINESIS_PARTIAL', 'records still rejected by PutRecords', async (batch) => {
      const out = await call('KINESIS', 'PutRecords', () => this.opts.client.send(new PutRecordsCommand({ StreamName: this.opts.streamName, Records: batch })));
      return out.FailedRecordCount ? batch.filter((_, j) => out.Records?.[j]?.ErrorCode) : [];
    });
  }
}
