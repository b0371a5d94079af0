/**
 * Kafka adapter (kafkajs). A subject maps to a topic (its family) plus a key (its symbol / client
 * order id / service), so per-key order is kept within a partition. The producer is idempotent
 * (acks=all, one in-flight request); topics are provisioned by `algoplanes topics apply`, never
 * auto-created. Consumer groups play the durable role; "ack" commits the offset, "nak" retries the
 * message in place (Kafka has no per-message redelivery) so the partition's order is preserved.
 */
import { Kafka, logLevel, type Consumer, type Producer, type KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Envelope } from '../domain/envelope.ts';
import { ConfigError, TransientError, AlgoplanesError, errorMessage } from '../util/errors.ts';
import { bytesToText, decodeEnvelope, encodeEnvelope } from './codec.ts';
import { publishDeadLetter, runHandler, undecodableLetter } from './dlq.ts';
import { withRetry } from './retry.ts';
import { kafkaAddress, familyOf, KAFKA_TOPICS, FAMILIES, escapeToken, type Family } from './subjects.ts';
import type { Bus, BusMessage, MessageHandler, PublishItem, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

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
    await this.publishBatch([{ subject, envelope, msgId: opts.msgId }]);
  }

  async publishBatch(items: readonly PublishItem[]): Promise<void> {
    if (items.length === 0) return;
    const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
    for (const it of items) {
      const { topic, key } = kafkaAddress(it.subject);
      const list = byTopic.get(topic) ?? [];
      list.push({ key, value: Buffer.from(encodeEnvelope(it.envelope)), headers: { 'msg-id': it.msgId ?? it.envelope.id, subject: it.subject } });
      byTopic.set(topic, list);
    }
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
    const where = `${topic}[${partition}]@${message.offset}`;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(value, where);
    } catch (err) {
      await this.bus.deadLetter(undecodableLetter(subject, bytesToText(value), err, 0));
      return;
    }
    // nak = retry in place after a delay; the partition waits, keeping per-key order.
    for (let redeliveries = 0; !this.stopped; redeliveries++) {
      let outcome: 'ack' | 'nak' | 'term' | undefined;
      let delay = 0;
      const settle = (o: 'ack' | 'nak' | 'term') => {
        if (outcome) throw new Error(`message ${where} settled twice`);
        outcome = o;
      };
      const msg: BusMessage = {
        subject,
        envelope,
        redeliveries,
        seq: Number(message.offset),
        get settled() {
          return outcome !== undefined;
        },
        ack: () => settle('ack'),
        nak: (delayMs = 0) => {
          settle('nak');
          delay = delayMs;
        },
        term: () => settle('term'),
      };
      await runHandler(this.handler, msg, (letter, traceId) => this.bus.deadLetter(letter, traceId));
      if (outcome !== 'nak') return;
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }
}
