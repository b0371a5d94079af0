/**
 * Data function core: Kinesis/MSK batches of raw market records -> data plane (quality gate, OFI,
 * bars) -> canonical events to MARKET_EVENTS. Schema violations and quality rejects go to the DLQ
 * with their reason and original payload; only failures a retry can fix come back to the source.
 */
import { MarketEventSchema, openEnvelope, type MarketEvent, type QuarantineEntry } from '../../shared/domain/index.ts';
import { DataPlane, type DataPlaneOptions } from '../../shared/data-plane/index.ts';
// Modules, not the shared/lambda barrel: the kafka entry must not load the Kinesis client (see kafka-handler.ts).
import { processBatch, type BatchResponse } from '../../shared/lambda/batch.ts';
import { parseJsonBody, streamItems, traceIdOfEnvelope, type BatchItem, type StreamEvent } from '../../shared/lambda/events.ts';
import type { Observability } from '../../shared/lambda/observability.ts';
import type { EventPublisher } from '../../shared/lambda/senders.ts';
import type { SqsDeadLetters } from '../../shared/lambda/sqs.ts';
import { TransientError } from '../../shared/util/errors.ts';

export interface DataAppDeps {
  readonly publisher: EventPublisher;
  readonly dlq: Pick<SqsDeadLetters, 'deadLetter' | 'quarantine'>;
  readonly obs: Observability;
}

export function createDataApp(opts: DataPlaneOptions, deps: DataAppDeps) {
  const { obs, dlq } = deps;
  let out: MarketEvent[] = [];
  let rejects: QuarantineEntry[] = [];
  // One plane per container: quality state (last ts, outlier windows) and partial bars carry across batches.
  const plane = new DataPlane(opts, { market: (e) => out.push(e), quarantine: (q) => rejects.push(q) });

  async function handleRecord(item: BatchItem): Promise<void> {
    const e = openEnvelope(parseJsonBody(item), MarketEventSchema, item.where).data;
    plane.process(e, item.where);
    obs.count('IngestedEvents');
    const found = rejects;
    rejects = [];
    for (const entry of found) {
      obs.count('QualityRejects');
      // Flags (gaps, stale feed) pass the event on; only dropped events are dead letters.
      if (entry.rejected) await dlq.quarantine(entry, item.source);
      else obs.logger.warn('quality flag', { reason: entry.reason, where: entry.where, message: entry.message });
    }
  }

  return {
    async handle(event: StreamEvent): Promise<BatchResponse> {
      out = [];
      const items = streamItems(event);
      const summary = await processBatch(items, handleRecord, { logger: obs.logger, dlq, traceIdOf: traceIdOfEnvelope });
      if (summary.batchItemFailures.length > 0 && event.kind === 'kafka') {
        // Kafka event sources retry whole batches; resend them rather than skip past a failed offset.
        throw new TransientError('BATCH_RETRY', `${summary.batchItemFailures.length} Kafka records failed; retrying the batch`);
      }
      await deps.publisher.publish(out, items[0] ? (traceIdOfEnvelope(items[0]) ?? items[0].id) : 'empty');
      obs.logger.info('batch done', { records: items.length, published: out.length, deadLettered: summary.deadLettered, retriable: summary.retriable });
      return { batchItemFailures: summary.batchItemFailures };
    },
  };
}
