/**
 * What the planes' Lambda functions send out, apart from the clients that send it: the schema names,
 * the sender interfaces and the retry of partially failed batch calls. No SDK client is imported
 * here, so a function loads only the client modules (sqs.ts, kinesis.ts, kafka.ts) it uses.
 */
import type { MarketEvent, OrderIntent } from '../domain/index.ts';
import { awsError } from '../store/errors.ts';
import { TransientError } from '../util/errors.ts';

export const MARKET_SCHEMA_PREFIX = 'market.';
export const INTENT_SCHEMA = 'orders.intent.v1';

/** Retries of the entries a batch API (PutRecords, SendMessageBatch) reports as failed. */
const PARTIAL_RETRIES = 4;

export async function call<T>(service: string, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw awsError(service, op, err);
  }
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, 20 * 2 ** attempt));

/**
 * Sends `entries` in chunks of `chunk` through a batch API whose `sendChunk` returns the entries it
 * reports failed; those are sent again with backoff, PARTIAL_RETRIES times at most, then a retriable
 * `code` error says how many are left (`what`: "records still rejected by PutRecords").
 */
export async function sendInChunks<E>(entries: readonly E[], chunk: number, code: string, what: string, sendChunk: (batch: E[]) => Promise<E[]>): Promise<void> {
  for (let i = 0; i < entries.length; i += chunk) {
    let pending = entries.slice(i, i + chunk);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > PARTIAL_RETRIES) throw new TransientError(code, `${pending.length} ${what} after ${PARTIAL_RETRIES} retries`);
      if (attempt > 0) await backoff(attempt);
      pending = await sendChunk(pending);
    }
  }
}

export interface EventPublisher {
  publish(events: readonly MarketEvent[], traceId: string): Promise<void>;
}

export interface IntentSender {
  send(intents: readonly OrderIntent[], traceId: string): Promise<void>;
}
