/**
 * local-aws-sqs (an SQS emulator speaking the JSON and Query protocols) on a free port. It is a Node
 * library, so it runs in the test process; stop() closes its HTTP server.
 */
import type { Server } from 'node:http';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { LOCAL_CREDENTIALS } from './dynamodb-local.ts';
import { freePort } from './launch.ts';

export interface SqsLocal {
  readonly endpoint: string;
  readonly client: SQSClient;
  createQueue(name: string, opts?: { fifo?: boolean }): Promise<string>;
  /** Receives until the queue is empty (or `max` messages), with every system attribute. */
  drain(queueUrl: string, max?: number): Promise<Message[]>;
  stop(): Promise<void>;
}

export async function startSqsLocal(): Promise<SqsLocal> {
  let createSqsServer: (opts: { port: number; hostname?: string; emulateQueueCreationLifecycle?: boolean }) => Promise<Server>;
  try {
    ({ createSqsServer } = await import('local-aws-sqs'));
  } catch {
    throw new Error('local-aws-sqs is not installed; install it with: npm install --save-dev local-aws-sqs');
  }
  const port = await freePort();
  const server = await createSqsServer({ port, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  const endpoint = `http://127.0.0.1:${port}`;
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
      await new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
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
