import type { Envelope } from '../domain/envelope.ts';

/** A delivered message. Handlers settle it explicitly; an unsettled message is acked when the handler resolves. */
export interface BusMessage {
  readonly subject: string;
  readonly envelope: Envelope;
  /** 0 on first delivery. */
  readonly redeliveries: number;
  /** Broker sequence (stream seq / partition offset) when the adapter has one; shared by the envelopes of one packed message. */
  readonly seq: number;
  /** Position within a packed wire message (0 for a message of its own): (seq, index) orders deliveries. */
  readonly index: number;
  ack(): void;
  /** Redeliver later (retriable failure). */
  nak(delayMs?: number): void;
  /** Never redeliver (poison message; the caller dead-letters it). */
  term(reason: string): void;
  readonly settled: boolean;
}

export type MessageHandler = (msg: BusMessage) => void | Promise<void>;

export interface SubscribeOptions {
  /** Durable consumer name (NATS durable / Kafka group id). Provisioned, never created implicitly. */
  durable?: string;
  /** Stream the durable lives in (NATS); derived from the subject when omitted. */
  stream?: string;
  /** Competing consumers: instances with the same queue share the work. */
  queue?: string;
  /** Max messages handed out and not yet settled. */
  maxInFlight?: number;
}

export interface PublishOptions {
  /** Broker-side dedup id (JetStream Nats-Msg-Id); defaults to the envelope id. */
  msgId?: string;
  /** Hot path: skip the broker ack (core publish into the stream subject). */
  fireAndForget?: boolean;
  /** With fireAndForget: off the latency path, may wait a few milliseconds to share one socket write with others. */
  lazy?: boolean;
  /**
   * May share one wire message with the other packed publishes to the same subject until the next
   * cut (the end of a publishBatch, or of handling one delivered wire message, so a redelivered
   * input re-packs its outputs alike and the msgID dedups them); consumers still get one message per
   * envelope. Without fireAndForget the pack is published with a broker ack, one per pack.
   * 'turn' (NATS, with fireAndForget): packed with the same subject's publishes of the whole turn of
   * the event loop, across cuts, for outputs whose consumers dedup them themselves (a redelivery
   * that packs them differently is harmless); other adapters treat it as true.
   */
  pack?: boolean | 'turn';
}

export interface BatchPublishOptions {
  fireAndForget?: boolean;
  /** The batch's envelopes travel packed, several per wire message (see PublishOptions.pack). */
  pack?: boolean;
}

export interface Subscription {
  readonly subject: string;
  /** Stops fetching, waits for in-flight handlers, settles nothing more. */
  close(): Promise<void>;
}

export interface PublishItem {
  readonly subject: string;
  readonly envelope: Envelope;
  readonly msgId?: string;
}

export interface Bus {
  readonly kind: 'memory' | 'nats' | 'kafka';
  publish(subject: string, envelope: Envelope, opts?: PublishOptions): Promise<void>;
  /** Publishes many messages with one round trip (or none when fireAndForget); a packed batch is cut at its end. */
  publishBatch(items: readonly PublishItem[], opts?: BatchPublishOptions): Promise<void>;
  subscribe(subject: string, handler: MessageHandler, opts?: SubscribeOptions): Promise<Subscription>;
  /** Throws a ConfigError naming `algoplanes streams apply` / `topics apply` when a stream/topic is missing. */
  assertProvisioned(subjects: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
