/**
 * Packing of hot-path publishes into wire messages, shared by the NATS and Kafka adapters: the
 * envelopes published to one subject between two cuts travel as one pack (codec.ts), at most
 * MAX_PACK of them and about MAX_PACK_CHARS characters. Per-subject order is kept: an open pack is
 * written before a later unpacked message of its subject. The wire message's dedup id is its first
 * envelope's plus the count, so the same input cut alike gives the same ids.
 */
import { packEnvelopes, packedSize, type PackableEnvelope } from './codec.ts';

/** Envelopes per packed wire message, and its size in characters: well below nats-server's 1 MB max_payload and Kafka's 1 MB message.max.bytes. */
export const MAX_PACK = 1_024;
const MAX_PACK_CHARS = 512 * 1_024;

/** A publish waiting to be written: a whole wire message (`data`), or one envelope to pack. */
export interface PendingPublish {
  readonly subject: string;
  readonly msgID: string;
  readonly data?: Uint8Array;
  readonly element?: PackableEnvelope;
  /** Packs never span a cut, except those of TURN publishes, which span the batch. */
  readonly cut: number;
}

/** The cut of a publish packed across cuts: its pack ends with the batch (or its size). */
export const TURN = -1;

class Pack {
  readonly elements: PackableEnvelope[] = [];
  chars = 0;
  constructor(
    readonly subject: string,
    readonly firstMsgID: string,
    readonly turn: boolean,
  ) {}
}

export function writePacked(batch: readonly PendingPublish[], write: (subject: string, data: Uint8Array, msgID: string) => void): void {
  const open = new Map<string, Pack>();
  const close = (pack: Pack) => {
    open.delete(pack.subject);
    const n = pack.elements.length;
    write(pack.subject, packEnvelopes(pack.elements), n === 1 ? pack.firstMsgID : `${pack.firstMsgID}+${n}`);
  };
  let cut = batch.find((p) => p.cut !== TURN)?.cut;
  for (const p of batch) {
    if (p.cut !== cut && p.cut !== TURN) {
      for (const pack of [...open.values()]) if (!pack.turn) close(pack);
      cut = p.cut;
    }
    const pack = open.get(p.subject);
    if (p.element === undefined) {
      if (pack) close(pack);
      write(p.subject, p.data ?? new Uint8Array(), p.msgID);
      continue;
    }
    const into = pack ?? new Pack(p.subject, p.msgID, p.cut === TURN);
    if (!pack) open.set(p.subject, into);
    into.elements.push(p.element);
    into.chars += packedSize(p.element);
    if (into.elements.length >= MAX_PACK || into.chars >= MAX_PACK_CHARS) close(into);
  }
  for (const pack of [...open.values()]) close(pack);
}

/**
 * Gathers the packed publishes of one turn of the event loop and sends them together; every
 * caller's promise settles with the whole send (a failure fails the turn: the outbox then restarts
 * from the checkpoint, and msgIDs dedup what did get through).
 */
export class TurnBatcher {
  private open: { batch: PendingPublish[]; sent: Promise<void> } | undefined;

  constructor(private readonly send: (batch: readonly PendingPublish[]) => Promise<void>) {}

  add(p: PendingPublish): Promise<void> {
    if (!this.open) {
      const batch: PendingPublish[] = [];
      const sent = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.open = undefined;
        return this.send(batch);
      });
      this.open = { batch, sent };
    }
    this.open.batch.push(p);
    return this.open.sent;
  }
}
