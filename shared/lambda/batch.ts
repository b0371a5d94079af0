/**
 * Runs a batch record by record and reports what AWS should redeliver (`batchItemFailures`):
 * poison records (non-retriable) go to the dead-letter sink with their reason and are NOT reported;
 * retriable failures are reported so only they come back. On a FIFO queue a failure holds back the
 * rest of its message group, so order within a group survives the retry.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { AlgoplanesError, errorMessage, isRetriable } from '../util/errors.ts';
import type { BatchItem } from './events.ts';

export interface BatchItemFailure {
  readonly itemIdentifier: string;
}

export interface BatchResponse {
  batchItemFailures: BatchItemFailure[];
}

export interface DeadLetterSink {
  /** Must persist the record (with its reason) before resolving; a throw makes the record retriable. */
  deadLetter(item: BatchItem, err: AlgoplanesError | Error): Promise<void>;
}

export interface BatchSummary extends BatchResponse {
  readonly processed: number;
  readonly deadLettered: number;
  readonly retriable: number;
}

export interface BatchOptions {
  readonly logger: Logger;
  readonly dlq: DeadLetterSink;
  /** Trace id for the record's log lines (from its envelope); falls back to the record id. */
  readonly traceIdOf?: (item: BatchItem) => string | undefined;
}

export async function processBatch(items: readonly BatchItem[], handle: (item: BatchItem) => Promise<void>, opts: BatchOptions): Promise<BatchSummary> {
  const failures: BatchItemFailure[] = [];
  const blockedGroups = new Set<string>();
  let processed = 0;
  let deadLettered = 0;
  for (const item of items) {
    if (item.groupId !== undefined && blockedGroups.has(item.groupId)) {
      failures.push({ itemIdentifier: item.id });
      continue;
    }
    opts.logger.appendKeys({ record_id: item.id, trace_id: opts.traceIdOf?.(item) ?? item.id });
    try {
      await handle(item);
      processed++;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(errorMessage(err));
      if (isRetriable(error)) {
        opts.logger.warn('record failed, will be retried', { where: item.where, error: error.message, code: (error as AlgoplanesError).code });
      } else {
        opts.logger.error('poison record, dead-lettering', { where: item.where, error: error.message, code: error instanceof AlgoplanesError ? error.code : 'UNEXPECTED' });
        try {
          await opts.dlq.deadLetter(item, error);
          deadLettered++;
          continue;
        } catch (dlqErr) {
          opts.logger.error('dead-letter failed, record will be retried', { where: item.where, error: errorMessage(dlqErr) });
        }
      }
      // The envelopes of one packed record share its id: report it once.
      if (failures.at(-1)?.itemIdentifier !== item.id) failures.push({ itemIdentifier: item.id });
      if (item.groupId !== undefined) blockedGroups.add(item.groupId);
    } finally {
      opts.logger.removeKeys(['record_id', 'trace_id']);
    }
  }
  return { batchItemFailures: failures, processed, deadLettered, retriable: failures.length };
}
