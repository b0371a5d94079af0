/**
 * local-aws-sqs (an SQS emulator speaking the JSON and Query protocols) on a free port. It is a Node
 * library, so it runs in the test process; stop() closes its HTTP server.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { LOCAL_CREDENTIALS, startSqsLocal as startServer } from '../../local/run/aws-local.ts';

export interface SqsLocal {
  readonly endpoint: string;
  readonly client: SQSClient;
  createQueue(name: string, opts?: { fifo?: boolean }): Promise<string>;
  /** Receives until the queue is empty (or `max` messages), with every system attribute. */
  drain(queueUrl: string, max?: number): Promise<Message[]>;
  stop(): Promise<void>;
}

/** The same emulator `npm run local` uses, on a free port (its local queues exist too; tests make their own). */
export async function startSqsLocal(): Promise<SqsLocal> {
  const server = await startServer();
  const endpoint = server.endpoint;
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    client,
    async createQueue(name, opts = {}) {
      const fifo = opts.fifo ?? name.endsWith('.fifo');
      const out = await client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {} }),
      );
      if (!out.QueueUrl) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
      return out.QueueUrl;
    },
    async drain(queueUrl, max = 10_000) {
      const all: Message[] = [];
      while (all.length < max) {
        const out = await client.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'], MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'], VisibilityTimeout: 300 }),
        );
        if (!out.Messages?.length) break;
        all.push(...out.Messages);
      }
      return all;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

/** Turns received messages into the SQS event records Lambda's event source mapping delivers. */
export function toSqsRecords(messages: readonly Message[], queueArn: string): SQSRecord[] {
  return messages.map((m) => {
    const a = m.Attributes ?? {};
    return {
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
        SentTimestamp: a.SentTimestamp ?? String(Date.now()),
        SenderId: a.SenderId ?? 'AIDALOCAL',
        ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
        ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
        ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    };
  });
}
