/**
 * Acks follow state. A worker applies each message to its plane at once, publishes the outputs, and
 * acks the inputs only after a checkpoint covers them: the state is captured first (synchronously,
 * so it holds exactly the inputs applied so far), then every output emitted before the capture is
 * confirmed, then the captured state is saved, then the inputs are acked. A crash therefore replays
 * exactly the messages after the last checkpoint onto the state saved with it; outputs re-published
 * during that replay carry the same msgID and the bus drops them.
 */
import { OUTPUT_LOST } from '../bus/index.ts';
import type { StateParts, StatePartsByHash } from '../cache/index.ts';
import { AlgoplanesError, errorMessage } from '../util/errors.ts';

export interface CheckpointOptions<S> {
  intervalMs: number;
  /** Checkpoint early when this many inputs wait for one (keep below the consumers' max_ack_pending). */
  maxPending: number;
  /** Synchronous: the state as of now (serialised, so later inputs cannot leak into it). */
  capture: () => S;
  /** Persists a captured state; runs after the outputs emitted before the capture are confirmed. */
  save: (state: S) => Promise<void>;
  /** `outputLost`: an output could not be published even after retries; only a restart (replay from the last checkpoint) recovers it. */
  onError: (err: unknown, outputLost: boolean) => void;
}

/** One promise for every input a checkpoint will cover (not one per input: this is the hot path). */
class Batch {
  readonly done: Promise<void>;
  resolve: () => void = () => undefined;
  size = 0;
  constructor() {
    this.done = new Promise<void>((r) => (this.resolve = r));
  }
}

export class Checkpointer<S> {
  private batch = new Batch();
  private inFlight = new Set<Promise<void>>();
  private outboxError: unknown;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: CheckpointOptions<S>) {}

  /**
   * Starts an output publish at once (pipelined: one connection keeps emission order, the broker
   * acks are awaited together at the next checkpoint).
   */
  emit(publish: () => Promise<void>): void {
    const p: Promise<void> = publish()
      .catch((err: unknown) => this.outputFailed(err))
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** An output handed to the bus without a promise could not be published: the next checkpoint fails as OUTPUT_LOST. */
  outputFailed(err: unknown): void {
    this.outboxError ??= err;
  }

  /** Resolves once a checkpoint covers everything applied so far (then the caller's message is acked). */
  covered(): Promise<void> {
    const batch = this.batch;
    if (++batch.size >= this.opts.maxPending) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.intervalMs);
    return batch.done;
  }

  /** Runs one checkpoint; on failure keeps the batch waiting and tries again (acks are held, never faked). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running ??= (async () => {
      // Capture and cut the batch in the same synchronous step: the batch is exactly what the state holds.
      const batch = this.batch;
      this.batch = new Batch();
      let outputLost = false;
      try {
        const state = this.opts.capture();
        await Promise.all(this.inFlight);
        if (this.outboxError !== undefined) {
          const err = this.outboxError;
          this.outboxError = undefined;
          outputLost = true;
          throw new Error(`output publish failed: ${errorMessage(err)}`);
        }
        await this.opts.save(state);
        batch.resolve();
      } catch (err) {
        this.opts.onError(err, outputLost || (err instanceof AlgoplanesError && err.code === OUTPUT_LOST));
        // The failed batch is covered by the next checkpoint that succeeds.
        const next = this.batch;
        next.size += batch.size;
        void next.done.then(batch.resolve);
        if (!this.closed) this.timer = setTimeout(() => void this.flush(), Math.max(this.opts.intervalMs, 500));
      } finally {
        this.running = undefined;
      }
      if (this.batch.size > 0 && !this.timer && !this.closed) {
        this.timer = setTimeout(() => void this.flush(), this.batch.size >= this.opts.maxPending ? 0 : this.opts.intervalMs);
      }
    })();
    return this.running;
  }

  /** Final checkpoint on shutdown. */
  async close(): Promise<void> {
    await this.running;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * A side-hash write as captured at a checkpoint: its values are immutable JSON-able data, turned into
 * text only afterwards, in slices of at most SERIALISE_SLICE_MS with a turn of the event loop between
 * them (serialising a checkpoint's hundreds of orders at once stalled the order worker for 3-17 ms
 * every interval, a stall every input behind it waited out). Slices of a time, not of a count: under
 * a backlog a checkpoint holds thousands of orders, and its acks (hence the intents the ORDERS
 * consumer may still deliver) wait for the last slice.
 */
export interface CapturedParts {
  readonly reset: boolean;
  readonly set: readonly (readonly [field: string, value: object])[];
  readonly del: readonly string[];
}
export type CapturedPartsByHash = Readonly<Record<string, CapturedParts>>;

/** Longest the event loop is held by one slice of serialisation. */
export const SERIALISE_SLICE_MS = 2;

/** The parts as Redis stores them (field -> JSON text), serialised SERIALISE_SLICE_MS at a time. `clockMs`: for tests. */
export async function serialiseParts(byHash: CapturedPartsByHash, clockMs: () => number = () => performance.now()): Promise<StatePartsByHash> {
  const out: Record<string, StateParts> = {};
  let sliceEnd = clockMs() + SERIALISE_SLICE_MS;
  for (const [hash, { reset, set, del }] of Object.entries(byHash)) {
    const text: [string, string][] = [];
    for (const [field, value] of set) {
      text.push([field, JSON.stringify(value)]);
      if (clockMs() >= sliceEnd) {
        await new Promise(setImmediate);
        sliceEnd = clockMs() + SERIALISE_SLICE_MS;
      }
    }
    out[hash] = { reset, set: text, del };
  }
  return out;
}
