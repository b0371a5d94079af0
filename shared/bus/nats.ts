/**
 * NATS JetStream adapter. Reliable subjects are published through JetStream with a msgID (broker-side
 * dedup within the stream's duplicate_window); the hot market stream is published as core NATS
 * messages into the stream's subjects, without waiting for per-message acks, and packed: the
 * envelopes published to one subject between two cuts travel as one wire message (a pack, codec.ts),
 * so the broker stores, sources and delivers one message per batch of ticks, not one per tick. Consumers are durable pull consumers
 * provisioned by `algoplanes streams apply`, never created here. An explicit-ack consumer is acked per
 * message; an ack-all consumer (the market fan-outs) is acked cumulatively: messages settle locally in
 * delivery order and one ack of the newest settled message covers every earlier one.
 */
import { AckPolicy, DeliverPolicy, ErrorCode, NatsError, connect, headers as natsHeaders, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { Envelope } from '../domain/envelope.ts';
import { AlgoplanesError, ConfigError, TransientError, errorMessage } from '../util/errors.ts';
import { decodeEnvelopes, encodeEnvelope, packable } from './codec.ts';
import { deliverInPlace, type WireMessage } from './deliver.ts';
import { TURN, TurnBatcher, writePacked, type PendingPublish } from './pack.ts';
import { OUTPUT_LOST, publishDeadLetter, runHandler, type DeadLetter } from './dlq.ts';
import { classify, withRetry } from './retry.ts';
import type { BatchPublishOptions, Bus, BusMessage, MessageHandler, PublishItem, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

const APPLY_HINT = 'run `algoplanes streams apply` (provisions local/nats/streams/*.json and local/nats/consumers/*.json)';

const looksTransient = (m: string) => /timeout|disconnect|connection|closed|reconnect|CONNECTION_REFUSED/i.test(m);

function publishError(err: unknown, subject: string): Error {
  const m = errorMessage(err);
  // JetStream answers 503 / "no responders" when no stream captures the subject.
  if (/503|no responders|no stream/i.test(m)) return new ConfigError(`no JetStream stream captures ${subject}: ${APPLY_HINT}`);
  return classify(err, 'BUS_PUBLISH', looksTransient);
}

/** Messages one pull may buffer in the client: a fraction of a second of packs at the hot path's rates. */
const PULL_MAX_MESSAGES = 128;
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
  private pending: PendingPublish[] = [];
  private lazyTimer: NodeJS.Timeout | undefined;
  private cuts = 0;
  /** Newest no-ack message per subject since the last confirming flush. */
  private readonly unconfirmed = new Map<string, { subject: string; data: Uint8Array; msgID: string }>();

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
    const msgID = opts.msgId ?? envelope.id;
    if (opts.fireAndForget) {
      this.enqueue(subject, envelope, msgID, opts.pack, opts.lazy);
      return;
    }
    if (opts.pack) return this.packed.add({ subject, msgID, element: packable(envelope), cut: this.cuts });
    await this.jsPublish(subject, encodeEnvelope(envelope), msgID);
  }

  private async jsPublish(subject: string, data: Uint8Array, msgID: string): Promise<void> {
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

  /** The acked packs of one turn: one JetStream publish (and ack) per pack, all in flight together. */
  private readonly packed = new TurnBatcher(async (batch) => {
    const sends: Promise<void>[] = [];
    writePacked(batch, (subject, data, msgID) => sends.push(this.jsPublish(subject, data, msgID)));
    await Promise.all(sends);
  });

  /**
   * A no-ack publish, queued synchronously (what `publish` with fireAndForget does, without its
   * promise): confirmed by the next flush(), which reports a loss as OUTPUT_LOST.
   */
  enqueue(subject: string, envelope: Envelope, msgID: string = envelope.id, pack: boolean | 'turn' = false, lazy = false): void {
    const cut = pack === 'turn' ? TURN : this.cuts;
    this.corePublish(pack ? { subject, msgID, element: packable(envelope), cut } : { subject, msgID, data: encodeEnvelope(envelope), cut }, lazy);
  }

  /** Ends the current packs: later packed publishes start new wire messages. */
  cut(): void {
    this.cuts++;
  }

  private corePublish(p: PendingPublish, lazy: boolean): void {
    if (lazy) this.lazyTimer ??= setTimeout(() => this.writePending(), LAZY_WRITE_MS);
    else if (this.pending.length === 0 || this.lazyTimer) {
      if (this.lazyTimer) clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
      setImmediate(() => this.writePending());
    }
    this.pending.push(p);
  }

  private writePending(): void {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    writePacked(batch, (subject, data, msgID) => {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', msgID);
      this.nc.publish(subject, data, { headers: h });
      this.unconfirmed.set(subject, { subject, data, msgID });
    });
  }

  async publishBatch(items: readonly PublishItem[], opts: BatchPublishOptions = {}): Promise<void> {
    if (opts.fireAndForget) {
      for (const it of items) this.enqueue(it.subject, it.envelope, it.msgId ?? it.envelope.id, opts.pack);
      this.cut();
      return;
    }
    // Pipelined: every publish is in flight before the first ack is awaited.
    const sent = Promise.all(items.map((it) => this.publish(it.subject, it.envelope, { msgId: it.msgId, pack: opts.pack })));
    this.cut();
    await sent;
  }

  /**
   * Confirms every hot-path (no-ack) publish so far: the newest message of each subject is published
   * again with a JetStream ack. The stream handles one connection's messages in order, so that ack
   * says everything before it was handled too, and its msgID makes it a duplicate that stores
   * nothing. A fence that is not a duplicate means the original never reached the stream (nor,
   * perhaps, the ones before it): that is an OUTPUT_LOST error, which only a replay from the
   * last checkpoint recovers.
   */
  async flush(): Promise<void> {
    this.writePending();
    const fences = [...this.unconfirmed.values()];
    if (fences.length === 0) {
      await this.nc.flush();
      return;
    }
    await Promise.all(
      fences.map(async (f) => {
        let ack;
        try {
          ack = await this.js.publish(f.subject, f.data, { msgID: f.msgID, timeout: 5_000 });
        } catch (err) {
          throw publishError(err, f.subject);
        }
        if (!ack.duplicate) throw new AlgoplanesError(OUTPUT_LOST, `no-ack publishes on ${f.subject} did not all reach stream ${ack.stream} (the confirming copy of ${f.msgID} was stored anew at seq ${ack.seq})`);
      }),
    );
    for (const f of fences) if (this.unconfirmed.get(f.subject) === f) this.unconfirmed.delete(f.subject);
  }

  /** Every envelope stored on `filterSubject` since `since` (packed messages opened), in stream order. */
  async envelopesSince(stream: string, filterSubject: string, since: Date): Promise<Envelope[]> {
    const consumer = await this.js.consumers.get(stream, { filterSubjects: filterSubject, deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() });
    const out: Envelope[] = [];
    let pending = (await consumer.info()).num_pending;
    while (pending > 0) {
      for await (const m of await consumer.fetch({ max_messages: Math.min(pending, 1_000), expires: 5_000 })) {
        for (const e of decodeEnvelopes(m.data, `${m.subject}#${m.seq}`)) if (e.envelope) out.push(e.envelope);
        pending = m.info.pending;
      }
    }
    return out;
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
    // Few messages per pull: a packed message holds up to MAX_PACK envelopes, so thousands of buffered
    // messages of a backlog could be millions of ticks (hundreds of MB the GC then walks). (A max_bytes
    // pull made nats-server 2.9 and the client spin at a full core each.)
    const sub = new NatsSubscription(subject, handler, maxInFlight, this, cumulative ? new CumulativeAcks(this.nc) : undefined);
    const max_messages = Math.min(Math.max(maxInFlight, 16), PULL_MAX_MESSAGES);
    // A subscription that never waits for a free slot (the server's max_ack_pending bounds it) takes
    // its messages by callback, straight from the socket's read: no async iterator step per message.
    const messages = await (sub.unbounded ? consumer.consume({ max_messages, callback: (m) => sub.take(m) }) : consumer.consume({ max_messages }));
    sub.start(messages);
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

/** What JsMsg.ack(), nak() and term() send to a message's ack subject. */
const ACK_BODY = Uint8Array.of(0x2b, 0x41, 0x43, 0x4b);
const NAK_BODY = Uint8Array.of(0x2d, 0x4e, 0x41, 0x4b);
const TERM_BODY = Uint8Array.of(0x2b, 0x54, 0x45, 0x52, 0x4d);
/** For a nak with a redelivery delay, whose body carries it (in nanoseconds, as nats.js writes it). */
const NAK_ENCODER = new TextEncoder();

/**
 * Settles a delivery by its ack subject alone, so that nothing else of the message is kept while
 * its checkpoint is awaited. Keeping the JsMsg (its parsed headers and info) of every wire message
 * of a checkpoint interval made them a fifth of the order worker's objects from a 4 s window still
 * alive at its end (V8's sampling heap profiler), work for every young-generation GC; without
 * them, 10k tick-to-fill p99 had a median of 6.7 against 8.4 ms over seven interleaved pairs of
 * runs, and the strategy worker used 18 instead of 20 ms of CPU per 1,000 ticks.
 */
function settleBySubject(nc: NatsConnection, ackSubject: string, body: Uint8Array): void {
  try {
    nc.publish(ackSubject, body);
  } catch (err) {
    // A connection closed or past draining sends nothing more: the message is redelivered after ack_wait, and consumers dedup.
    if (!(err instanceof NatsError) || (err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.ConnectionDraining)) throw err;
  }
}

/** A message's ack subject: nats.js 2.x keeps it on the JsMsg as `reply` without declaring it there. */
function ackSubjectOf(m: JsMsg): string {
  const reply = (m as JsMsg & { readonly reply?: unknown }).reply;
  if (typeof reply !== 'string' || reply === '') throw new Error(`JetStream message ${m.seq} on ${m.subject} has no ack subject`);
  return reply;
}

interface Delivery {
  readonly ackSubject: string;
  done: boolean;
}

/**
 * Acks of an ack-all consumer. A settled message is acked only once every earlier delivery is
 * settled too (so the cumulative ack never covers one still being handled), and the acks of one
 * turn of the event loop are coalesced into one. Term counts as settled: the dead letter is already
 * published and an ack-all consumer has no per-message "do not redeliver" other than the ack.
 */
class CumulativeAcks {
  /** Deliveries from `head` on are still tracked; the ones before are cleared, not kept until the next compaction (thousands, promoted by every collection meanwhile). */
  private queue: (Delivery | undefined)[] = [];
  private head = 0;
  private newest: string | undefined;
  private scheduled = false;

  constructor(private readonly nc: NatsConnection) {}

  track(m: JsMsg): Delivery {
    const d = { ackSubject: ackSubjectOf(m), done: false };
    this.queue.push(d);
    return d;
  }

  settle(d: Delivery): void {
    d.done = true;
    for (let next = this.queue[this.head]; next?.done; next = this.queue[this.head]) {
      this.newest = next.ackSubject;
      this.queue[this.head++] = undefined;
    }
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
    if (this.newest) settleBySubject(this.nc, this.newest, ACK_BODY);
    this.newest = undefined;
  }
}

/** A message of an explicit-ack consumer, settled on the broker by its ack subject (settleBySubject). */
class BrokerSettled implements BusMessage {
  readonly index = 0;
  private done = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ackSubject: string,
    readonly subject: string,
    readonly seq: number,
    readonly envelope: Envelope,
    readonly redeliveries: number,
  ) {}

  ack(): void {
    this.settle(ACK_BODY);
  }

  nak(delayMs?: number): void {
    this.settle(delayMs ? NAK_ENCODER.encode(`-NAK ${JSON.stringify({ delay: delayMs * 1_000_000 })}`) : NAK_BODY);
  }

  /** The reason travels in the dead letter: nats-server 2.9 ignores a "+TERM <reason>" ack body. */
  term(): void {
    this.settle(TERM_BODY);
  }

  get settled(): boolean {
    return this.done;
  }

  private settle(body: Uint8Array): void {
    if (this.done) throw new Error(`message ${this.seq} on ${this.subject} settled twice`);
    this.done = true;
    settleBySubject(this.nc, this.ackSubject, body);
  }
}

/** Decodes a message's bytes again; outside the subscription's methods, so the closure holds the bytes and not the message. */
function rereader(data: Uint8Array, where: string): () => ReturnType<typeof decodeEnvelopes> {
  return () => decodeEnvelopes(data, where);
}

/** In-flight handlers above which a subscription is taken as unbounded (consumed by callback). */
const UNBOUNDED_IN_FLIGHT = 65_536;

class NatsSubscription implements Subscription {
  done: Promise<void> = Promise.resolve();
  private messages: ConsumerMessages | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private slotFreed: (() => void) | undefined;
  /** Handlers of callback-delivered messages still running, and who waits for none to be. */
  private running = 0;
  private idle: (() => void) | undefined;
  /** The first handler failure of a callback-delivered message, reported when the subscription ends (as the iterator's loop does). */
  private failure: unknown;

  constructor(
    readonly subject: string,
    private readonly handler: MessageHandler,
    private readonly maxInFlight: number,
    private readonly bus: NatsBus,
    private readonly acks: CumulativeAcks | undefined,
  ) {}

  get unbounded(): boolean {
    return this.maxInFlight >= UNBOUNDED_IN_FLIGHT;
  }

  start(messages: ConsumerMessages): void {
    this.messages = messages;
    this.done = this.unbounded ? this.untilStopped(messages) : this.loop(messages);
  }

  /** A callback-delivered message: handled at once, in delivery order. */
  take(m: JsMsg): void {
    this.running++;
    const settled = () => {
      if (--this.running === 0) this.idle?.();
    };
    this.handle(m).then(settled, (err: unknown) => {
      this.failure ??= err;
      settled();
    });
  }

  private async untilStopped(messages: ConsumerMessages): Promise<void> {
    // An Error here ended the consumer (deleted, say), as it would end the iterator's loop.
    const ended = await messages.closed();
    if (this.running > 0) await new Promise<void>((r) => (this.idle = r));
    if (ended instanceof Error) throw ended;
    if (this.failure !== undefined) throw this.failure;
  }

  private async loop(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
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

  /** Not async: only the ack subject of `m` stays reachable while its handling waits (settleBySubject). */
  private handle(m: JsMsg): Promise<void> {
    try {
      const delivery = this.acks?.track(m);
      const { done, inPlace, single } = this.deliver(m);
      // The outputs of this message form their own packs, so a redelivery re-packs them alike.
      this.bus.cut();
      if (delivery) return this.settleCumulative(done, delivery);
      return inPlace ? this.settleInPlace(done, ackSubjectOf(m), single ? TERM_BODY : ACK_BODY) : done.then(() => undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async settleCumulative(done: Promise<unknown>, delivery: Delivery): Promise<void> {
    await done;
    this.acks?.settle(delivery);
  }

  private async settleInPlace(done: Promise<unknown>, ackSubject: string, body: Uint8Array): Promise<void> {
    await done;
    settleBySubject(this.bus.nc, ackSubject, body);
  }

  /** Not async: nothing decoded here stays reachable while `done` waits (for a checkpoint, say). */
  private deliver(m: JsMsg): { done: Promise<unknown>; inPlace: boolean; single: boolean } {
    const redeliveries = m.info.redeliveryCount - 1;
    const where = `${m.subject}#${m.seq}`;
    const elements = decodeEnvelopes(m.data, where);
    const inPlace = this.acks !== undefined || elements.length > 1 || elements[0].error !== undefined;
    // A nak cannot redeliver one message of an ack-all consumer (a later cumulative ack would cover
    // it), nor one element of a packed message: there, retriable failures are retried in place.
    const done = inPlace
      ? deliverInPlace({ subject: m.subject, seq: m.seq, redeliveries, elements, reread: rereader(m.data, where) } satisfies WireMessage, this.handler, this.deadLetter)
      : this.handleExplicit(m, elements[0].envelope as Envelope, redeliveries);
    return { done, inPlace, single: elements.length === 1 };
  }

  private readonly deadLetter = (letter: DeadLetter, traceId?: string) => publishDeadLetter(this.bus, letter, 'nats-bus', traceId);

  /** One envelope on an explicit-ack consumer: settled on the broker, so a nak is a real redelivery. */
  private async handleExplicit(m: JsMsg, envelope: Envelope, redeliveries: number): Promise<void> {
    await runHandler(this.handler, new BrokerSettled(this.bus.nc, ackSubjectOf(m), m.subject, m.seq, envelope, redeliveries), this.deadLetter);
  }

  async close(): Promise<void> {
    this.messages?.stop();
    await this.done;
    // Before the connection drains: the last coalesced ack must not wait for another turn.
    this.acks?.flush();
  }
}
