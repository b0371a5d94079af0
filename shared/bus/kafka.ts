/**
 * Kafka adapter (kafkajs). A subject maps to a topic (its family) plus a key (its symbol / client
 * order id / service), so per-key order is kept within a partition. The producer is idempotent
 * (acks=all, one in-flight request); topics are provisioned by `algoplanes topics apply`, never
 * auto-created. Consumer groups play the durable role; "ack" commits the offset, "nak" retries the
 * message in place (Kafka has no per-message redelivery) so the partition's order is preserved.
 * Packed publishes (the hot market stream) share Kafka messages exactly as they share NATS messages
 * (pack.ts): one pack per subject between two cuts, split again on delivery.
 */
import { Kafka, logLevel, type Consumer, type Producer, type KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../domain/envelope.ts';
import { ConfigError, TransientError, AlgoplanesError, errorMessage } from '../util/errors.ts';
import { decodeEnvelopes, encodeEnvelope, packable } from './codec.ts';
import { deliverInPlace } from './deliver.ts';
import { publishDeadLetter } from './dlq.ts';
import { TurnBatcher, writePacked, type PendingPublish } from './pack.ts';
import { withRetry } from './retry.ts';
import { kafkaAddress, familyOf, KAFKA_TOPICS, FAMILIES, escapeToken, type Family } from './subjects.ts';
import type { BatchPublishOptions, Bus, MessageHandler, PublishItem, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

const APPLY_HINT = 'run `algoplanes topics apply` (provisions local/kafka/topics.json)';

/** kafkajs errors carry `retriable`; keep that decision instead of guessing from the message. */
function kafkaError(err: unknown, code: string): AlgoplanesError {
  if (err instanceof AlgoplanesError) return err;
  const retriable = typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
  if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(errorMessage(err))) return new ConfigError(`${errorMessage(err)}: ${APPLY_HINT}`);
  return retriable ? new TransientError(code, errorMessage(err), err) : new AlgoplanesError(code, errorMessage(err), { retriable: false, cause: err });
}

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** Idempotent producer (needs InitProducerId on the broker). */
  idempotent?: boolean;
  publishAttempts?: number;
  onRetry?: (attempt: number, err: unknown) => void;
}

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  readonly kafka: Kafka;
  private producer: Producer | undefined;
  private readonly subs = new Set<KafkaSubscription>();
  private readonly packed = new TurnBatcher((batch) => this.send(batch));
  private cuts = 0;

  constructor(private readonly opts: KafkaBusOptions) {
    // kafkajs' own retries are kept short: withRetry decides, on the error's `retriable` flag.
    this.kafka = new Kafka({ clientId: opts.clientId, brokers: opts.brokers, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
  }

  private async getProducer(): Promise<Producer> {
    if (!this.producer) {
      const idempotent = this.opts.idempotent ?? true;
      const p = this.kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : undefined, allowAutoTopicCreation: false });
      try {
        await p.connect();
      } catch (err) {
        throw kafkaError(err, 'BUS_CONNECT');
      }
      this.producer = p;
    }
    return this.producer;
  }

  async publish(subject: string, envelope: Envelope, opts: PublishOptions = {}): Promise<void> {
    const msgID = opts.msgId ?? envelope.id;
    // Kafka has no publish without an ack: a packed publish waits for its turn's sendBatch.
    if (opts.pack) return this.packed.add({ subject, msgID, element: packable(envelope), cut: this.cuts });
    await this.send([{ subject, msgID, data: encodeEnvelope(envelope), cut: this.cuts }]);
  }

  /** Ends the current packs: later packed publishes start new Kafka messages. */
  cut(): void {
    this.cuts++;
  }

  async publishBatch(items: readonly PublishItem[], opts: BatchPublishOptions = {}): Promise<void> {
    if (items.length === 0) return;
    const pack = opts.pack === true;
    const batch = items.map((it): PendingPublish => {
      const msgID = it.msgId ?? it.envelope.id;
      return pack ? { subject: it.subject, msgID, element: packable(it.envelope), cut: this.cuts } : { subject: it.subject, msgID, data: encodeEnvelope(it.envelope), cut: this.cuts };
    });
    this.cut();
    await this.send(batch);
  }

  private async send(batch: readonly PendingPublish[]): Promise<void> {
    const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
    writePacked(batch, (subject, data, msgID) => {
      const { topic, key } = kafkaAddress(subject);
      const list = byTopic.get(topic) ?? [];
      list.push({ key, value: Buffer.from(data.buffer, data.byteOffset, data.byteLength), headers: { 'msg-id': msgID, subject } });
      byTopic.set(topic, list);
    });
    const producer = await this.getProducer();
    await withRetry(
      async () => {
        try {
          await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        } catch (err) {
          throw kafkaError(err, 'BUS_PUBLISH');
        }
      },
      { where: [...byTopic.keys()].join(','), attempts: this.opts.publishAttempts ?? 5, onRetry: this.opts.onRetry },
    );
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const { topic, keyFilter } = topicOfPattern(subject);
    const groupId = opts.durable ?? opts.queue ?? `ephemeral-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
    } catch (err) {
      throw kafkaError(err, 'BUS_SUBSCRIBE');
    }
    const sub = new KafkaSubscription(subject, consumer, handler, keyFilter, this);
    await sub.start(opts.maxInFlight ?? 1);
    this.subs.add(sub);
    return sub;
  }

  async assertProvisioned(subjectList: readonly string[]): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const have = new Set(await admin.listTopics());
      for (const s of subjectList) {
        const { topic } = topicOfPattern(s);
        if (!have.has(topic)) throw new ConfigError(`Kafka topic ${topic} (for ${s}) does not exist: ${APPLY_HINT}`);
      }
    } finally {
      await admin.disconnect();
    }
  }

  deadLetter = (letter: Parameters<typeof publishDeadLetter>[1], traceId?: string) => publishDeadLetter(this, letter, 'kafka-bus', traceId);

  async close(): Promise<void> {
    await Promise.all([...this.subs].map((s) => s.close()));
    await this.producer?.disconnect();
  }
}

/** `md.events.>` -> all keys of md.events; `md.events.BTC` -> md.events filtered on key BTC. */
function topicOfPattern(subject: string): { topic: string; keyFilter: string | undefined } {
  for (const [name, prefix] of Object.entries(FAMILIES) as [Family, string][]) {
    if (subject === `${prefix}.>` || subject === `${prefix}.*`) return { topic: KAFKA_TOPICS[name], keyFilter: undefined };
    if (subject.startsWith(prefix + '.')) {
      const f = familyOf(subject);
      return { topic: KAFKA_TOPICS[name], keyFilter: escapeToken(f.token) };
    }
  }
  throw new ConfigError(`subject ${subject} is not in the registry (shared/bus/subjects.ts)`);
}

class KafkaSubscription implements Subscription {
  private stopped = false;
  constructor(
    readonly subject: string,
    private readonly consumer: Consumer,
    private readonly handler: MessageHandler,
    private readonly keyFilter: string | undefined,
    private readonly bus: KafkaBus,
  ) {}

  async start(partitionsConcurrently: number): Promise<void> {
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: partitionsConcurrently,
      eachMessage: async ({ topic, partition, message }) => {
        await this.handle(topic, partition, message);
        await this.consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
  }

  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const subject = message.headers?.subject?.toString() ?? topic;
    const key = message.key?.toString() ?? '';
    if (this.keyFilter !== undefined && escapeToken(key || '_') !== this.keyFilter) return;
    const value = message.value ?? Buffer.alloc(0);
    const elements = decodeEnvelopes(value, `${topic}[${partition}]@${message.offset}`);
    // nak = retry in place after a delay; the partition waits, keeping per-key order.
    const done = deliverInPlace({ subject, seq: Number(message.offset), redeliveries: 0, elements }, this.handler, this.bus.deadLetter, () => this.stopped);
    // The outputs of this message form their own packs, so a redelivery re-packs them alike.
    this.bus.cut();
    await done;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }
}
