/**
 * In-process bus: asynchronous delivery (never re-entrant), explicit ack/nak/term, queue groups and
 * redelivery on nak. For tests and the no-server default; nothing survives the process.
 */
import type { Envelope } from '../domain/envelope.ts';
import { publishDeadLetter, runHandler } from './dlq.ts';
import { subjectMatches } from './subjects.ts';
import type { Bus, BusMessage, MessageHandler, PublishItem, PublishOptions, SubscribeOptions, Subscription } from './types.ts';

interface Pending {
  subject: string;
  envelope: Envelope;
  redeliveries: number;
  seq: number;
}

class MemorySubscription implements Subscription {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    readonly subject: string,
    private readonly handler: MessageHandler,
    private readonly maxInFlight: number,
    private readonly bus: MemoryBus,
  ) {}

  push(p: Pending): void {
    if (this.closed) return;
    this.queue.push(p);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const p = this.queue.shift() as Pending;
      this.inFlight++;
      setImmediate(() => void this.run(p));
    }
  }

  private async run(p: Pending): Promise<void> {
    let settled = false;
    const settle = () => {
      if (settled) throw new Error(`message ${p.seq} on ${p.subject} settled twice`);
      settled = true;
    };
    const msg: BusMessage = {
      subject: p.subject,
      envelope: p.envelope,
      redeliveries: p.redeliveries,
      seq: p.seq,
      // In-process there is no wire message to share: packed publishes are delivered one by one.
      index: 0,
      get settled() {
        return settled;
      },
      ack: () => settle(),
      nak: (delayMs = 0) => {
        settle();
        setTimeout(() => this.push({ ...p, redeliveries: p.redeliveries + 1 }), delayMs);
      },
      term: () => settle(),
    };
    await runHandler(this.handler, msg, (letter, traceId) => publishDeadLetter(this.bus, letter, 'memory-bus', traceId));
    this.inFlight--;
    if (this.inFlight === 0 && this.queue.length === 0) this.idle?.();
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
    this.bus.remove(this);
  }
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly subs: { sub: MemorySubscription; queue?: string }[] = [];
  private readonly rr = new Map<string, number>();
  private seq = 0;

  async publish(subject: string, envelope: Envelope, _opts?: PublishOptions): Promise<void> {
    const p: Pending = { subject, envelope, redeliveries: 0, seq: ++this.seq };
    const groups = new Map<string, MemorySubscription[]>();
    for (const s of this.subs) {
      if (!subjectMatches(s.sub.subject, subject)) continue;
      if (!s.queue) s.sub.push(p);
      else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s.sub]);
    }
    // A queue group gets each message once, spread round-robin over its members.
    for (const [queue, members] of groups) {
      const n = this.rr.get(queue) ?? 0;
      this.rr.set(queue, n + 1);
      members[n % members.length].push(p);
    }
  }

  async publishBatch(items: readonly PublishItem[]): Promise<void> {
    for (const it of items) await this.publish(it.subject, it.envelope);
  }

  async subscribe(subject: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<Subscription> {
    const sub = new MemorySubscription(subject, handler, opts.maxInFlight ?? 1, this);
    this.subs.push({ sub, queue: opts.queue ?? opts.durable });
    return sub;
  }

  remove(sub: MemorySubscription): void {
    const i = this.subs.findIndex((s) => s.sub === sub);
    if (i >= 0) this.subs.splice(i, 1);
  }

  async assertProvisioned(): Promise<void> {
    // Nothing to provision in-process.
  }

  async close(): Promise<void> {
    await Promise.all(this.subs.map((s) => s.sub.close()));
  }
}
