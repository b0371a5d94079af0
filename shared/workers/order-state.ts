/**
 * The order worker's checkpoint in parts, written incrementally: the plane's orders (its dedup
 * window, tens of thousands) and the paper broker's market history (a ring of thousands of bars per
 * symbol) live in side hashes beside the state, and a checkpoint writes only what changed since the
 * last one. Re-serialising either whole every checkpoint stalled the worker for milliseconds
 * (orders) and made the checkpoint grow with the ring (bars).
 */
import { endianness } from 'node:os';
import type { Order } from '../domain/index.ts';
import { isTerminal, type OrderPlane, type PaperBrokerState } from '../order-plane/index.ts';
import { ValidationError } from '../util/errors.ts';
import type { CapturedParts } from './checkpoint.ts';

/** Orders as last written to the side hash, with the rank that restores their original order. */
export interface PersistedOrder {
  readonly order: Order;
  readonly rank: number;
}

/**
 * The plane's orders, one hash field per order. Every order the plane records is reported right
 * after (execution sink), so the reports name each new or changed order, and the terminal ones
 * arrive in the order the plane queues them to be forgotten (oldest finished first, once the dedup
 * window is full). A checkpoint writes the reported orders and deletes the forgotten ones from the
 * front of that queue, without walking the window; should the hash then not hold as many orders as
 * the plane (a case this misses), the whole window is compared instead.
 */
export class OrderParts {
  private readonly persisted = new Map<string, { order: Order; rank: number; generation: number }>();
  private readonly changed = new Map<string, Order>();
  /** Finished orders in the order the plane forgets them. */
  private finished: Order[] = [];
  private finishedHead = 0;
  private generation = 0;
  private nextRank = 0;
  private rewrite = true;
  /** Checkpoints that had to compare the whole window (for tests and metrics). */
  fullScans = 0;

  /** Every execution report's order, in report order. */
  reported(order: Order): void {
    this.changed.set(order.clientOrderId, order);
    if (isTerminal(order.status)) this.finished.push(order);
  }

  /** A checkpoint was not saved: the next one rewrites the hash whole. */
  failed(): void {
    this.rewrite = true;
  }

  /** `orders`: the plane's snapshot of them (only its length is read unless a full comparison is needed). */
  capture(plane: OrderPlane, orders: readonly Order[]): CapturedParts {
    const reset = this.rewrite;
    this.rewrite = false;
    const set: [string, PersistedOrder][] = [];
    const del: string[] = [];
    const generation = ++this.generation;
    if (!reset) {
      for (const id of this.changed.keys()) {
        const order = plane.knownOrder(id);
        if (order) this.write(order, generation, set);
      }
      while (this.finishedHead < this.finished.length) {
        const order = this.finished[this.finishedHead];
        const now = plane.knownOrder(order.clientOrderId);
        if (now === order) break;
        this.finishedHead++;
        // Known under another object: forgotten, then recorded again (its new report queued it again).
        if (now === undefined && this.persisted.delete(order.clientOrderId)) del.push(order.clientOrderId);
      }
      if (this.finishedHead > 4_096 && this.finishedHead * 2 > this.finished.length) {
        this.finished = this.finished.slice(this.finishedHead);
        this.finishedHead = 0;
      }
    }
    this.changed.clear();
    if (!reset && this.persisted.size === orders.length) return { reset, set, del };
    // Orders are immutable: a changed order is a new object, so identity finds what to write. The
    // generation marks what is still there without building a second map of the whole window.
    if (reset) this.persisted.clear();
    else this.fullScans++;
    const gen = ++this.generation;
    for (const order of orders) this.write(order, gen, set);
    for (const [id, p] of this.persisted) {
      if (p.generation === gen) continue;
      del.push(id);
      this.persisted.delete(id);
    }
    return { reset, set, del };
  }

  private write(order: Order, generation: number, set: [string, PersistedOrder][]): void {
    const before = this.persisted.get(order.clientOrderId);
    if (before?.order === order) {
      before.generation = generation;
      return;
    }
    const rank = before?.rank ?? this.nextRank++;
    // Immutable, so serialised after the capture (checkpoint.ts serialiseParts).
    set.push([order.clientOrderId, { order, rank }]);
    this.persisted.set(order.clientOrderId, { order, rank, generation });
  }

  /** The saved orders in their original order; the next checkpoint rewrites the hash whole. */
  restore(fields: Readonly<Record<string, string>>): Order[] {
    const saved = Object.values(fields)
      .map((json) => JSON.parse(json) as PersistedOrder)
      .sort((a, b) => a.rank - b.rank);
    this.nextRank = saved.length === 0 ? 0 : saved[saved.length - 1].rank + 1;
    this.persisted.clear();
    this.changed.clear();
    this.rewrite = true;
    return saved.map((p) => p.order);
  }

  /** After the plane restored `orders` (its own objects, in the order it recorded them): its queue of finished ones. */
  restored(orders: readonly Order[]): void {
    this.finished = orders.filter((o) => isTerminal(o.status));
    this.finishedHead = 0;
  }
}

type BrokerSymbol = PaperBrokerState['symbols'][number];
type Slot = BrokerSymbol['slots'][number];

/** Slots per hash field. */
export const RING_CHUNK = 512;

/** A symbol's ring in the ring hash: the events numbered from to to - 1. */
export interface RingExtent {
  readonly from: number;
  readonly to: number;
}

/**
 * One hash field: consecutive slots from event `from` on. `f64`: base64 of their fields as
 * little-endian doubles, SLOT_FIELDS per slot (exact, NaN included, and cheap to write: the array of
 * arrays as JSON numbers took the order worker 2-12 ms per checkpoint at 10,000 bars/s). Chunks
 * written before that hold `slots`, each as [ts, open, high, low, close, volume, bid, ask].
 */
type RingChunk = { readonly from: number; readonly f64: string } | { readonly from: number; readonly slots: readonly (readonly number[])[] };

const SLOT_FIELDS = 8;
const BIG_ENDIAN = endianness() === 'BE';

function encodeSlots(slots: readonly Slot[], first: number, end: number): string {
  const f64 = new Float64Array((end - first) * SLOT_FIELDS);
  for (let i = first, o = 0; i < end; i++, o += SLOT_FIELDS) {
    const s = slots[i];
    f64[o] = s.ts;
    f64[o + 1] = s.open;
    f64[o + 2] = s.high;
    f64[o + 3] = s.low;
    f64[o + 4] = s.close;
    f64[o + 5] = s.volume;
    f64[o + 6] = s.bid;
    f64[o + 7] = s.ask;
  }
  const bytes = Buffer.from(f64.buffer);
  if (BIG_ENDIAN) bytes.swap64();
  return bytes.toString('base64');
}

/** A chunk's slots as [ts, open, high, low, close, volume, bid, ask] rows, from either format. */
function chunkRows(c: RingChunk): (readonly number[])[] {
  if ('slots' in c) return [...c.slots];
  const bytes = Buffer.from(c.f64, 'base64');
  if (BIG_ENDIAN) bytes.swap64();
  // Copied: a decoded Buffer may sit at an offset a Float64Array view cannot start from. A truncated
  // chunk yields fewer slots, which restore() then reports as missing events.
  const f64 = new Float64Array(Math.floor(bytes.length / 8));
  new Uint8Array(f64.buffer).set(bytes.subarray(0, f64.byteLength));
  const rows: number[][] = [];
  for (let o = 0; o + SLOT_FIELDS <= f64.length; o += SLOT_FIELDS) rows.push(Array.from(f64.subarray(o, o + SLOT_FIELDS)));
  return rows;
}

const chunkField = (symbol: string, k: number) => `${k}:${symbol}`;

/**
 * The paper broker's ring (bars kept for late intents) in RING_CHUNK-slot fields, numbered by event
 * (the broker counts the events it pushed): a checkpoint rewrites the field the last one ended in,
 * writes the new ones and deletes those entirely pushed out, so its size follows the market rate
 * times the checkpoint interval, not the ring's length.
 */
export class RingParts {
  /** Per symbol: events below `upTo` are in the hash as they are; the chunks written. */
  private readonly written = new Map<string, { upTo: number; chunks: Set<number> }>();
  private rewrite = true;

  failed(): void {
    this.rewrite = true;
  }

  /**
   * Per symbol, the first event the next capture needs (the start of the chunk the last one ended
   * in), for a broker state that copies only those (PaperBroker.state's ringSince); empty while the
   * next capture rewrites everything.
   */
  since(): Record<string, number> {
    const since: Record<string, number> = {};
    if (!this.rewrite) for (const [symbol, w] of this.written) since[symbol] = Math.floor(w.upTo / RING_CHUNK) * RING_CHUNK;
    return since;
  }

  /** The broker's symbols without their slots (those go to `parts`), and where each ring is. */
  capture(symbols: readonly BrokerSymbol[]): { symbols: BrokerSymbol[]; extents: Record<string, RingExtent>; parts: CapturedParts } {
    const reset = this.rewrite;
    this.rewrite = false;
    if (reset) this.written.clear();
    const set: [string, RingChunk][] = [];
    const del: string[] = [];
    const extents: Record<string, RingExtent> = {};
    const out: BrokerSymbol[] = [];
    const seen = new Set<string>();
    for (const x of symbols) {
      if (x.pushed === undefined) {
        out.push(x);
        continue;
      }
      seen.add(x.symbol);
      const to = x.pushed;
      const from = to - (x.held ?? x.slots.length);
      /** Number of x.slots[0]: later than `from` when the state holds only the newer slots. */
      const first = to - x.slots.length;
      extents[x.symbol] = { from, to };
      out.push({ ...x, slots: [] });
      let w = this.written.get(x.symbol);
      if (!w) this.written.set(x.symbol, (w = { upTo: from, chunks: new Set() }));
      for (let k = Math.floor(Math.max(from, w.upTo) / RING_CHUNK); k * RING_CHUNK < to; k++) {
        const a = Math.max(from, k * RING_CHUNK);
        const b = Math.min(to, (k + 1) * RING_CHUNK);
        if (a < first) throw new Error(`ring of ${x.symbol}: the state starts at event ${first}, the checkpoint needs ${a} on (take it with since())`);
        set.push([chunkField(x.symbol, k), { from: a, f64: encodeSlots(x.slots, a - first, b - first) }]);
        w.chunks.add(k);
      }
      for (const k of w.chunks) {
        if ((k + 1) * RING_CHUNK > from) continue;
        del.push(chunkField(x.symbol, k));
        w.chunks.delete(k);
      }
      w.upTo = to;
    }
    for (const [symbol, w] of this.written) {
      if (seen.has(symbol)) continue;
      for (const k of w.chunks) del.push(chunkField(symbol, k));
      this.written.delete(symbol);
    }
    return { symbols: out, extents, parts: { reset, set, del } };
  }

  /** The symbols with their slots put back from the hash; the next checkpoint rewrites it whole. */
  restore(symbols: readonly BrokerSymbol[], extents: Readonly<Record<string, RingExtent>>, fields: Readonly<Record<string, string>>): BrokerSymbol[] {
    this.rewrite = true;
    this.written.clear();
    const chunks = new Map<string, RingChunk[]>();
    for (const [field, json] of Object.entries(fields)) {
      const symbol = field.slice(field.indexOf(':') + 1);
      let list = chunks.get(symbol);
      if (!list) chunks.set(symbol, (list = []));
      list.push(JSON.parse(json) as RingChunk);
    }
    return symbols.map((x) => {
      const extent = extents[x.symbol];
      if (!extent) return x;
      const slots: (Slot | undefined)[] = new Array<Slot | undefined>(extent.to - extent.from).fill(undefined);
      for (const c of chunks.get(x.symbol) ?? []) {
        chunkRows(c).forEach(([ts, open, high, low, close, volume, bid, ask], j) => {
          const i = c.from + j - extent.from;
          if (i >= 0 && i < slots.length) slots[i] = { ts, open, high, low, close, volume, bid, ask };
        });
      }
      const missing = slots.indexOf(undefined);
      if (missing >= 0) throw new ValidationError('BAD_CHECKPOINT', `broker ring of ${x.symbol}: event ${extent.from + missing} is missing from the saved ring (events ${extent.from} to ${extent.to - 1})`, 'order-worker.restore');
      return { ...x, slots: slots as Slot[] };
    });
  }
}
