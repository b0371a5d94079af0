/**
 * NATS JetStream adapter. Reliable subjects are published through JetStream with a msgID (broker-side
 * dedup within the stream's duplicate_window); the hot market stream is published as core NATS
 * messages into the stream's subjects, batched and without waiting for per-message acks, which is
 * what lets it reach tens of thousands of messages per second. Consumers are durable pull consumers
 * with explicit acks; they are provisioned by `algoplanes streams apply`, never created here.
 */
import { connect, headers as natsHeaders, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { Envelope } from '../domain/envelope.ts';
import { ConfigError, TransientError, errorMessage } from '../util/errors.ts';
import { bytesToText, decodeEnvelope, encodeEnvelope } from './codec.ts';
import { publishDeadLetter, runHandler, undecodableLetter } from './dlq.ts';
import { classify, withRetry } from './retry.ts';
import type { Bus, BusMessage, MessageHandler, PublishItem, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

const APPLY_HINT = 'run `algoplanes streams apply` (provisions local/nats/streams/*.json and local/nats/consumers/*.json)';

const looksTransient = (m: string) => /timeout|disconnect|connection|closed|reconnect|CONNECTION_REFUSED/i.test(m);

function publishError(err: unknown, subject: string): Error {
  const m = errorMessage(err);
  // JetStream answers 503 / "no responders" when no stream captures the subject.
  if (/503|no responders|no stream/i.test(m)) return new ConfigError(`no JetStream stream captures ${subject}: ${APPLY_HINT}`);
  return classify(err, 'BUS_PUBLISH', looksTransient);
}

export interface NatsBusOptions {
  url: string;
  name: string;
  /** Retries of a JetStream publish; only retriable errors are retried. */
  publishAttempts?: number;
  onRetry?: (attempt: number, err: unknown) => void;
}

export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private readonly js: JetStreamClient;
  private readonly subs = new Set<NatsSubscription>();

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly opts: NatsBusOptions,
  ) {
    this.js = nc.jetstream();
  }

  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    try {
      const nc = await connect({ servers: opts.url, name: opts.name, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
      const jsm = await nc.jetstreamManager();
      return new NatsBus(nc, jsm, opts);
    } catch (err) {
      throw new TransientError('BUS_CONNECT', `cannot connect to NATS at ${opts.url}: ${errorMessage(err)}`, err);
    }
  }

  async publish(subject: string, envelope: Envelope, opts: PublishOptions = {}): Promise<void> {
    const data = encodeEnvelope(envelope);
    const msgID = opts.msgId ?? envelope.id;
    if (opts.fireAndForget) {
      this.corePublish(subject, data, msgID);
      return;
    }
    await withRetry(
      async () => {
        try {
          await this.js.publish(subject, data, { msgID, timeout: 5_000 });
        } catch (err) {
          throw publishError(err, subject);
        }
      },
      { where: subject, attempts: this.opts.publishAttempts ?? 5, onRetry: this.opts.onRetry },
    );
  }

  private corePublish(subject: string, data: Uint8Array, msgID: string): void {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', msgID);
    this.nc.publish(subject, data, { headers: h });
  }

  async publishBatch(items: readonly PublishItem[], opts: { fireAndForget?: boolean } = {}): Promise<void> {
    if (opts.fireAndForget) {
      for (const it of items) this.corePublish(it.subject, encodeEnvelope(it.envelope), it.msgId ?? it.envelope.id);
      return;
    }
    // Pipelined: every publish is in flight before the first ack is awaited.
    await Promise.all(items.map((it) => this.publish(it.subject, it.envelope, { msgId: it.msgId })));
  }

  /** Waits until the server has processed everything published so far (hot-path batches). */
  async flush(): Promise<void> {
    await this.nc.flush();
  }

  async streamFor(subject: string): Promise<string> {
    try {
      return await this.jsm.streams.find(subject);
    } catch (err) {
      throw new ConfigError(`no JetStream stream captures ${subject} (${errorMessage(err)}): ${APPLY_HINT}`);
    }
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const durable = opts.durable ?? opts.queue;
    if (!durable) throw new ConfigError(`subscribe(${subject}) needs a durable consumer name: JetStream consumers are provisioned, not ephemeral`);
    const stream = opts.stream ?? (await this.streamFor(subject));
    let consumer;
    try {
      consumer = await this.js.consumers.get(stream, durable);
    } catch (err) {
      throw new ConfigError(`durable consumer ${stream}/${durable} does not exist (${errorMessage(err)}): ${APPLY_HINT}`);
    }
    const maxInFlight = opts.maxInFlight ?? 1;
    const messages = await consumer.consume({ max_messages: Math.max(maxInFlight, 256) });
    const sub = new NatsSubscription(subject, messages, handler, maxInFlight, this);
    this.subs.add(sub);
    sub.done.finally(() => this.subs.delete(sub));
    return sub;
  }

  async assertProvisioned(subjects: readonly string[]): Promise<void> {
    for (const s of subjects) await this.streamFor(s);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subs].map((s) => s.close()));
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

class NatsSubscription implements Subscription {
  readonly done: Promise<void>;
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed: (() => void) | undefined;

  constructor(
    readonly subject: string,
    private readonly messages: ConsumerMessages,
    private readonly handler: MessageHandler,
    private readonly maxInFlight: number,
    private readonly bus: NatsBus,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for await (const m of this.messages) {
      const p = this.handle(m);
      if (this.maxInFlight <= 1) {
        await p;
        continue;
      }
      this.inFlight.add(p);
      void p.finally(() => {
        this.inFlight.delete(p);
        // One waiter for a free slot instead of Promise.race over every in-flight handler.
        const wake = this.slotFreed;
        this.slotFreed = undefined;
        wake?.();
      });
      if (this.inFlight.size >= this.maxInFlight) await new Promise<void>((r) => (this.slotFreed = r));
    }
    await Promise.all(this.inFlight);
  }

  private async handle(m: JsMsg): Promise<void> {
    const redeliveries = m.info.redeliveryCount - 1;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(m.data, `${m.subject}#${m.seq}`);
    } catch (err) {
      m.term();
      await publishDeadLetter(this.bus, undecodableLetter(m.subject, bytesToText(m.data), err, redeliveries), 'nats-bus');
      return;
    }
    let settled = false;
    const once = (fn: () => void) => {
      if (settled) throw new Error(`message ${m.seq} on ${m.subject} settled twice`);
      settled = true;
      fn();
    };
    const msg: BusMessage = {
      subject: m.subject,
      envelope,
      redeliveries,
      seq: m.seq,
      get settled() {
        return settled;
      },
      ack: () => once(() => m.ack()),
      nak: (delayMs?: number) => once(() => m.nak(delayMs)),
      // The reason travels in the dead letter: nats-server 2.9 ignores a "+TERM <reason>" ack body.
      term: () => once(() => m.term()),
    };
    await runHandler(this.handler, msg, (letter, traceId) => publishDeadLetter(this.bus, letter, 'nats-bus', traceId));
  }

  async close(): Promise<void> {
    this.messages.stop();
    await this.done;
  }
}
