/**
 * Event-source envelopes as AWS delivers them, validated with zod and taken apart from their
 * payloads: a malformed envelope is a wiring bug (fail the invocation); a malformed payload is one
 * poison record (dead-letter it, keep the batch going).
 */
import * as z from 'zod';
import { packedElements } from '../bus/codec.ts';
import { ValidationError } from '../util/errors.ts';

export const KinesisEventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:kinesis'),
        eventID: z.string().min(1),
        eventSourceARN: z.string().min(1),
        kinesis: z.object({
          data: z.string(),
          partitionKey: z.string(),
          sequenceNumber: z.string().min(1),
          approximateArrivalTimestamp: z.number(),
        }),
      }),
    )
    .min(1),
});
export type KinesisEvent = z.infer<typeof KinesisEventSchema>;

const KafkaRecordSchema = z.object({
  topic: z.string().min(1),
  partition: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  timestamp: z.number(),
  key: z.string().optional(),
  value: z.string().optional(),
  headers: z.array(z.record(z.string(), z.array(z.number()))).default([]),
});

export const KafkaEventSchema = z.object({
  eventSource: z.enum(['aws:kafka', 'SelfManagedKafka']),
  records: z.record(z.string(), z.array(KafkaRecordSchema)),
});
export type KafkaEvent = z.infer<typeof KafkaEventSchema>;

export const SqsEventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:sqs'),
        messageId: z.string().min(1),
        receiptHandle: z.string(),
        body: z.string(),
        eventSourceARN: z.string().min(1),
        attributes: z.object({
          ApproximateReceiveCount: z.string(),
          MessageGroupId: z.string().optional(),
          MessageDeduplicationId: z.string().optional(),
          AWSTraceHeader: z.string().optional(),
        }),
      }),
    )
    .min(1),
});
export type SqsEvent = z.infer<typeof SqsEventSchema>;

/** One record of any source, its body decoded to text (or the reason it could not be). */
export interface BatchItem {
  /** What AWS wants back in batchItemFailures (sequence number, message id, topic-partition@offset). */
  readonly id: string;
  /** Where the record came from, for error messages and the DLQ. */
  readonly where: string;
  readonly source: string;
  readonly text: string;
  /** FIFO message group: a failure holds back the rest of its group. */
  readonly groupId?: string;
  readonly receiveCount: number;
}

export type StreamEvent = { readonly kind: 'kinesis'; readonly event: KinesisEvent } | { readonly kind: 'kafka'; readonly event: KafkaEvent };

/** Kinesis and MSK both feed the data and strategy functions; tell them apart by shape. */
export function parseStreamEvent(raw: unknown): StreamEvent {
  const kafka = KafkaEventSchema.safeParse(raw);
  if (kafka.success) return { kind: 'kafka', event: kafka.data };
  const kinesis = KinesisEventSchema.safeParse(raw);
  if (kinesis.success) return { kind: 'kinesis', event: kinesis.data };
  throw new ValidationError('BAD_EVENT', `neither a Kinesis nor an MSK/Kafka batch: ${kinesis.error.issues[0]?.message ?? 'unknown shape'}`, 'lambda event');
}

export function streamItems(e: StreamEvent): BatchItem[] {
  if (e.kind === 'kinesis') {
    return e.event.Records.flatMap((r) =>
      unpacked({
        id: r.kinesis.sequenceNumber,
        where: `${r.eventSourceARN}#${r.kinesis.sequenceNumber}`,
        source: r.eventSourceARN,
        text: Buffer.from(r.kinesis.data, 'base64').toString('utf8'),
        receiveCount: 1,
      }),
    );
  }
  const items: BatchItem[] = [];
  for (const records of Object.values(e.event.records)) {
    for (const r of records) {
      const id = `${r.topic}-${r.partition}@${r.offset}`;
      items.push(...unpacked({ id, where: `kafka:${id}`, source: `kafka:${r.topic}`, text: r.value === undefined ? '' : Buffer.from(r.value, 'base64').toString('utf8'), receiveCount: 1 }));
    }
  }
  return items;
}

/**
 * A packed record (shared/bus/codec.ts: several envelopes of one subject as one pack, as the
 * workers, feeds and the NATS bridge carry the hot path) becomes one item per envelope, whole again.
 * All answer to the record's id, so a retriable failure redelivers the whole record; its other
 * envelopes are applied idempotently. Anything else, an empty pack included, stays one item for the
 * payload checks to accept or dead-letter.
 */
function unpacked(record: BatchItem): BatchItem[] {
  if (!record.text.startsWith('[') && !record.text.startsWith('{"pack":')) return [record];
  let elements: unknown[] | undefined;
  try {
    elements = packedElements(JSON.parse(record.text));
  } catch {
    return [record];
  }
  if (!elements || elements.length === 0) return [record];
  return elements.map((element: unknown, i) => ({ ...record, where: `${record.where}[${i}]`, text: JSON.stringify(element) }));
}

export function sqsItems(e: SqsEvent): BatchItem[] {
  return e.Records.map((r) => ({
    id: r.messageId,
    where: `${r.eventSourceARN}#${r.messageId}`,
    source: r.eventSourceARN,
    text: r.body,
    groupId: r.attributes.MessageGroupId,
    receiveCount: Number(r.attributes.ApproximateReceiveCount) || 1,
  }));
}

/** JSON body of a record; a record that is not JSON is poison. */
export function parseJsonBody(item: BatchItem): unknown {
  try {
    return JSON.parse(item.text);
  } catch (err) {
    throw new ValidationError('BAD_JSON', `not JSON: ${(err as Error).message}`, item.where);
  }
}

/** The envelope's trace id when the body is one, so a record's log lines join its upstream trace. */
export function traceIdOfEnvelope(item: BatchItem): string | undefined {
  try {
    const body: unknown = JSON.parse(item.text);
    const traceId = typeof body === 'object' && body !== null ? (body as { trace_id?: unknown }).trace_id : undefined;
    return typeof traceId === 'string' ? traceId : undefined;
  } catch {
    return undefined;
  }
}
