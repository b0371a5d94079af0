/**
 * NATS JetStream adapter. Reliable subjects are published through JetStream with a msgID (broker-side
 * dedup within the stream's duplicate_window); the hot market stream is published as core NATS
 * messages into the stream's subjects, batched and without waiting for per-message acks, which is
 * what lets it reach tens of thousands of messages per second. Consumers are durable pull consumers
 * provisioned by `algoplanes streams apply`, never created here. An explicit-ack consumer is acked per
 * message; an ack-all consumer (the market fan-outs) is acked cumulatively: messages settle locally in
 * delivery order and one ack of the newest settled message covers every earlier one.
 */
import { AckPolicy, connect, headers as natsHeaders, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
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

/** Longest a lazy publish waits for company. */
const LAZY_WRITE_MS = 10;

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
  /** Hot-path publishes of this turn of the event loop, handed to the client together (one socket write, not one per message). */
  private pending: { subject: string; data: Uint8Array; msgID: string }[] = [];
  private lazyTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    private readonly opts: NatsBusOptions,
  ) {
    this.js = nc.jetstream();
  }

  static async connect(opts: NatsBusOptions): Promise<NatsBus> {
    try {
      // noAsyncTraces: otherwise every JetStream publish allocates two Errors for their stacks (a third of a worker's CPU in a profile).
      const nc = await connect({ servers: opts.url, name: opts.name, maxReconnectAttempts: -1, reconnectTimeWait: 250, noAsyncTraces: true });
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
      this.corePublish(subject, data, msgID, opts.lazy);
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

  private corePublish(subject: string, data: Uint8Array, msgID: string, lazy = false): void {
    if (lazy) this.lazyTimer ??= setTimeout(() => this.writePending(), LAZY_WRITE_MS);
    else if (this.pending.length === 0 || this.lazyTimer) {
      if (this.lazyTimer) clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
      setImmediate(() => this.writePending());
    }
    this.pending.push({ subject, data, msgID });
  }

  private writePending(): void {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    for (const p of batch) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', p.msgID);
      this.nc.publish(p.subject, p.data, { headers: h });
    }
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
    this.writePending();
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
    const cumulative = (await consumer.info(true)).config.ack_policy === AckPolicy.All;
    const messages = await consumer.consume({ max_messages: Math.min(Math.max(maxInFlight, 256), 8_192) });
    const sub = new NatsSubscription(subject, messages, handler, maxInFlight, this, cumulative ? new CumulativeAcks() : undefined);
    this.subs.add(sub);
    sub.done.finally(() => this.subs.delete(sub));
    return sub;
  }

  async assertProvisioned(subjects: readonly string[]): Promise<void> {
    for (const s of subjects) await this.streamFor(s);
  }

  async close(): Promise<void> {
    await Promise.all([...this.subs].map((s) => s.close()));
    if (!this.nc.isClosed()) {
      this.writePending();
      await this.nc.drain();
    }
  }
}

interface Delivery {
  readonly m: JsMsg;
  done: boolean;
}

/**
 * Acks of an ack-all consumer. A settled message is acked only once every earlier delivery is
 * settled too (so the cumulative ack never covers one still being handled), and the acks of one
 * turn of the event loop are coalesced into one. Term counts as settled: the dead letter is already
 * published and an ack-all consumer has no per-message "do not redeliver" other than the ack.
 */
class CumulativeAcks {
  private queue: Delivery[] = [];
  private head = 0;
  private newest: JsMsg | undefined;
  private scheduled = false;

  track(m: JsMsg): Delivery {
    const d = { m, done: false };
    this.queue.push(d);
    return d;
  }

  settle(d: Delivery): void {
    d.done = true;
    while (this.head < this.queue.length && this.queue[this.head].done) this.newest = this.queue[this.head++].m;
    if (this.head > 4_096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.newest && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    this.newest?.ack();
    this.newest = undefined;
  }
}

/** A message of an ack-all consumer: settling only records the outcome (a class, not per-message closures: this is the hot path). */
class LocallySettled implements BusMessage {
  outcome: 'ack' | 'nak' | 'term' | undefined;
  nakDelayMs = 0;
  readonly subject: string;
  readonly seq: number;

  constructor(
    m: JsMsg,
    readonly envelope: Envelope,
    readonly redeliveries: number,
  ) {
    this.subject = m.subject;
    this.seq = m.seq;
  }

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  private settle(o: 'ack' | 'nak' | 'term'): void {
    if (this.outcome) throw new Error(`message ${this.seq} on ${this.subject} settled twice`);
    this.outcome = o;
  }

  ack(): void {
    this.settle('ack');
  }

  nak(delayMs = 0): void {
    this.settle('nak');
    this.nakDelayMs = delayMs;
  }

  term(): void {
    this.settle('term');
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
    private readonly acks: CumulativeAcks | undefined,
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
    const acks = this.acks;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(m.data, `${m.subject}#${m.seq}`);
    } catch (err) {
      if (acks) acks.settle(acks.track(m));
      else m.term();
      await publishDeadLetter(this.bus, undecodableLetter(m.subject, bytesToText(m.data), err, redeliveries), 'nats-bus');
      return;
    }
    if (acks) return this.handleCumulative(m, envelope, redeliveries, acks);
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

  /**
   * A nak cannot redeliver one message of an ack-all consumer (a later cumulative ack would cover
   * it), so a retriable failure is retried here, in place, with the same backoff and attempt limit.
   */
  private async handleCumulative(m: JsMsg, envelope: Envelope, firstRedelivery: number, acks: CumulativeAcks): Promise<void> {
    const delivery = acks.track(m);
    for (let redeliveries = firstRedelivery; ; redeliveries++) {
      const msg = new LocallySettled(m, envelope, redeliveries);
      await runHandler(this.handler, msg, (letter, traceId) => publishDeadLetter(this.bus, letter, 'nats-bus', traceId));
      if (msg.outcome !== 'nak') break;
      await new Promise((r) => setTimeout(r, msg.nakDelayMs));
    }
    acks.settle(delivery);
  }

  async close(): Promise<void> {
    this.messages.stop();
    await this.done;
    // Before the connection drains: the last coalesced ack must not wait for another turn.
    this.acks?.flush();
  }
}
