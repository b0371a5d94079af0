/** SQS senders: poison records and quality rejects to the DLQ, order intents to the FIFO queue. */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_SCHEMA, type DeadLetter } from '../bus/dlq.ts';
import { makeEnvelope } from '../domain/envelope.ts';
import type { OrderIntent, QuarantineEntry } from '../domain/index.ts';
import { AlgoplanesError } from '../util/errors.ts';
import type { DeadLetterSink } from './batch.ts';
import type { BatchItem } from './events.ts';
import type { Observability } from './observability.ts';
import { INTENT_SCHEMA, call, sendInChunks, type IntentSender } from './senders.ts';

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
    await sendInChunks(entries, 10, 'SQS_PARTIAL', 'intents still rejected by SendMessageBatch', async (batch) => {
      const out = await call('SQS', 'SendMessageBatch', () => this.opts.client.send(new SendMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: batch })));
      const senderFault = out.Failed?.find((f) => f.SenderFault);
      if (senderFault) throw new AlgoplanesError('SQS_REJECTED', `intent rejected by SQS: ${senderFault.Code}: ${senderFault.Message}`);
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      return batch.filter((e) => failed.has(e.Id));
    });
  }
}
