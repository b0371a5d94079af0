/**
 * Delivery of one wire message (a single envelope or a packed batch) to a handler, shared by the
 * adapters whose retries happen in place: every element is handed out in order, synchronously (so
 * the outputs of one input message are emitted together and pack alike on a redelivery), each
 * settled on its own: a retriable failure is retried here after its backoff, a poison element is
 * dead-lettered alone, and the wire message counts as done once every element is settled.
 */
import type { DecodedElement } from './codec.ts';
import { runHandler, undecodableLetter, type DeadLetter } from './dlq.ts';
import type { BusMessage, MessageHandler } from './types.ts';
import type { Envelope } from '../domain/envelope.ts';

/** A message whose settling only records the outcome (a class, not per-message closures: this is the hot path). */
export class LocallySettled implements BusMessage {
  outcome: 'ack' | 'nak' | 'term' | undefined;
  nakDelayMs = 0;

  constructor(
    readonly subject: string,
    readonly seq: number,
    readonly index: number,
    readonly envelope: Envelope,
    readonly redeliveries: number,
  ) {}

  get settled(): boolean {
    return this.outcome !== undefined;
  }

  private settle(o: 'ack' | 'nak' | 'term'): void {
    if (this.outcome) throw new Error(`message ${this.seq}[${this.index}] on ${this.subject} settled twice`);
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

export interface WireMessage {
  readonly subject: string;
  readonly seq: number;
  /** Redeliveries of the wire message by the broker before this one. */
  readonly redeliveries: number;
  readonly elements: readonly DecodedElement[];
}

export type DeadLetterFn = (letter: DeadLetter, traceId?: string) => Promise<void>;

export function deliverInPlace(wire: WireMessage, handler: MessageHandler, deadLetter: DeadLetterFn, stopped: () => boolean = () => false): Promise<unknown> {
  const { elements } = wire;
  if (elements.length === 1) return deliverElement(wire, 0, handler, deadLetter, stopped);
  const all: Promise<void>[] = new Array(elements.length);
  for (let i = 0; i < elements.length; i++) all[i] = deliverElement(wire, i, handler, deadLetter, stopped);
  return Promise.all(all);
}

async function deliverElement(wire: WireMessage, index: number, handler: MessageHandler, deadLetter: DeadLetterFn, stopped: () => boolean): Promise<void> {
  const e = wire.elements[index];
  if (e.error) {
    await deadLetter(undecodableLetter(wire.subject, e.text, e.error, wire.redeliveries));
    return;
  }
  for (let redeliveries = wire.redeliveries; !stopped(); redeliveries++) {
    const msg = new LocallySettled(wire.subject, wire.seq, index, e.envelope, redeliveries);
    await runHandler(handler, msg, deadLetter);
    if (msg.outcome !== 'nak') return;
    await new Promise((r) => setTimeout(r, msg.nakDelayMs));
  }
}
