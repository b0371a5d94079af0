/** The AWS outputs of the plane functions: dead letters (SQS), canonical events (Kinesis), intents (SQS FIFO). */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_SCHEMA, type DeadLetter } from '../bus/dlq.ts';
import { makeEnvelope } from '../domain/envelope.ts';
import type { MarketEvent, OrderIntent, QuarantineEntry } from '../domain/index.ts';
import { awsError } from '../store/errors.ts';
import { AlgoplanesError, TransientError } from '../util/errors.ts';
import type { DeadLetterSink } from './batch.ts';
import type { BatchItem } from './events.ts';
import type { Observability } from './observability.ts';

export const MARKET_SCHEMA_PREFIX = 'market.';
export const INTENT_SCHEMA = 'orders.intent.v1';

/** Retries of the entries a batch API (PutRecords, SendMessageBatch) reports as failed. */
const PARTIAL_RETRIES = 4;

async function call<T>(service: string, op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw awsError(service, op, err);
  }
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, 20 * 2 ** attempt));

/** Poison records and quality rejects, each with its reason and the original payload, on the DLQ. */
export class SqsDeadLetters implements DeadLetterSink {
  constructor(
    private readonly opts: { client: SQSClient; queueUrl: string; producer: string; obs: Observability },
  ) {
    if (!opts.queueUrl) throw new AlgoplanesError('CONFIG', 'SqsDeadLetters: queueUrl is required');
  }

  async deadLetter(item: BatchItem, err: Error): Promise<void> {
    const code = err instanceof AlgoplanesError ? err.code : 'UNEXPECTED';
    const where = err instanceof AlgoplanesError && err.where ? err.where : item.where;
    await this.send({ originSubject: item.source, reason: err.message, code, where, redeliveries: Math.max(0, item.receiveCount - 1), original: item.text });
  }

  /** A data-quality rejection from the data plane (its `raw` is the original input). */
  async quarantine(entry: QuarantineEntry, source: string): Promise<void> {
    await this.send({ originSubject: source, reason: `${entry.reason}: ${entry.message}`, code: entry.reason, where: entry.where, redeliveries: 0, original: entry.raw ?? entry });
  }

  private async send(letter: DeadLetter): Promise<void> {
    const env = makeEnvelope(DEAD_LETTER_SCHEMA, letter, { producer: this.opts.producer });
    await call('SQS', 'dead-letter', () =>
      this.opts.client.send(
        new SendMessageCommand({
          QueueUrl: this.opts.queueUrl,
          MessageBody: JSON.stringify(env),
          MessageAttributes: { code: { DataType: 'String', StringValue: letter.code } },
        }),
      ),
    );
    this.opts.obs.count('DlqMessages');
  }
}

export interface EventPublisher {
  publish(events: readonly MarketEvent[], traceId: string): Promise<void>;
}

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
    for (let i = 0; i < entries.length; i += 500) {
      let pending = entries.slice(i, i + 500);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > PARTIAL_RETRIES) throw new TransientError('KINESIS_PARTIAL', `${pending.length} records still rejected by PutRecords after ${PARTIAL_RETRIES} retries`);
        if (attempt > 0) await backoff(attempt);
        const batch = pending;
        const out = await call('KINESIS', 'PutRecords', () => this.opts.client.send(new PutRecordsCommand({ StreamName: this.opts.streamName, Records: batch })));
        pending = out.FailedRecordCount ? batch.filter((_, j) => out.Records?.[j]?.ErrorCode) : [];
      }
    }
  }
}

export interface IntentSender {
  send(intents: readonly OrderIntent[], traceId: string): Promise<void>;
}

/** Order intents to the SQS FIFO queue: one group per account#symbol, deduplicated by clientOrderId. */
export class SqsIntentSender implements IntentSender {
  constructor(private readonly opts: { client: SQSClient; queueUrl: string; producer: string }) {
    if (!opts.queueUrl) throw new AlgoplanesError('CONFIG', 'SqsIntentSender: queueUrl is required');
  }

  async send(intents: readonly OrderIntent[], traceId: string): Promise<void> {
    const entries = intents.map((intent, n) => ({
      Id: String(n),
      MessageBody: JSON.stringify(makeEnvelope(INTENT_SCHEMA, intent, { producer: this.opts.producer, traceId })),
      MessageGroupId: `${intent.accountId}#${intent.symbol}`,
      MessageDeduplicationId: intent.clientOrderId,
    }));
    for (let i = 0; i < entries.length; i += 10) {
      let pending = entries.slice(i, i + 10);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > PARTIAL_RETRIES) throw new TransientError('SQS_PARTIAL', `${pending.length} intents still rejected by SendMessageBatch after ${PARTIAL_RETRIES} retries`);
        if (attempt > 0) await backoff(attempt);
        const batch = pending;
        const out = await call('SQS', 'SendMessageBatch', () => this.opts.client.send(new SendMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: batch })));
        const senderFault = out.Failed?.find((f) => f.SenderFault);
        if (senderFault) throw new AlgoplanesError('SQS_REJECTED', `intent rejected by SQS: ${senderFault.Code}: ${senderFault.Message}`);
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        pending = batch.filter((e) => failed.has(e.Id));
      }
    }
  }
}

