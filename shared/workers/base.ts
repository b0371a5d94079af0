/**
 * Shared wiring of the plane workers: consume durable subscriptions, skip messages the saved state
 * already covers (stream sequence at or below the checkpointed one), apply the rest to the plane in
 * delivery order, and ack after the checkpoint. Market consumers are ack-all on the server: the bus
 * sends one cumulative ack per checkpoint instead of one per message, so a checkpoint interval no
 * longer caps throughput at max_ack_pending / interval round trips.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Bus, BusMessage, PublishOptions, Subscription } from '../bus/index.ts';
import { NatsBus } from '../bus/index.ts';
import { describeZodError, type Envelope } from '../domain/envelope.ts';
import type { RedisCache } from '../cache/index.ts';
import { AlgoplanesError, ValidationError, errorMessage } from '../util/errors.ts';
import { Checkpointer, serialiseParts, type CapturedPartsByHash } from './checkpoint.ts';
import type { PayloadSchema } from './payload.ts';
import type { WorkerRuntime } from './runtime.ts';

export interface WorkerDeps {
  bus: Bus;
  runtime: WorkerRuntime;
  /** Absent only for the data worker, which keeps no state across restarts. */
  cache?: RedisCache;
  checkpointMs: number;
  /** Inputs a checkpoint may cover; below the market consumers' max_ack_pending (local/nats/consumers). */
  checkpointMaxPending?: number;
  /** Called when an output was lost after retries: the process must restart from its checkpoint. */
  onFatal?: (err: unknown) => void;
}

interface CapturedState {
  readonly json: string;
  readonly parts: CapturedPartsByHash | undefined;
}

export interface SavedState<P> {
  plane: P;
  /** Per input: stream sequence of the last applied wire message ... */
  seqs: Record<string, number>;
  /** ... and the last applied envelope's index in it (absent: the whole message, as before packing). */
  idx?: Record<string, number>;
  /** Wall time (ms) of the capture: outputs published after it may have to be replayed. */
  capturedAt?: number;
}

let isoMs = 0;
let iso = '';
/** The current time as ISO text, formatted once per millisecond. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

/** Default for WorkerDeps.checkpointMaxPending: a quarter of the MARKET consumers' max_ack_pending. */
export const CHECKPOINT_MAX_PENDING = 16_384;
/** In-flight inputs per subscription: those waiting for a checkpoint, bounded server-side by max_ack_pending. */
const MAX_IN_FLIGHT = 1 << 17;

export abstract class PlaneWorker<P> {
  protected readonly ckpt: Checkpointer<CapturedState | undefined>;
  protected seqs: Record<string, number> = {};
  protected idx: Record<string, number> = {};
  /** Capture time of the restored checkpoint (0: from before it was recorded); undefined on a fresh start. */
  protected restoredCapture: number | undefined;
  /** Trace id of the input being applied, so outputs continue its trace. */
  protected traceId: string | undefined;
  private readonly subs: Subscription[] = [];

  constructor(
    readonly name: string,
    protected readonly deps: WorkerDeps,
  ) {
    this.ckpt = new Checkpointer({
      intervalMs: deps.checkpointMs,
      maxPending: deps.checkpointMaxPending ?? CHECKPOINT_MAX_PENDING,
      // Serialised at once: the plane keeps mutating while outputs and Redis are awaited.
      capture: () =>
        deps.cache ? { json: JSON.stringify({ plane: this.snapshot(), seqs: this.seqs, idx: this.idx, capturedAt: Date.now() } satisfies SavedState<P>), parts: this.captureParts() } : undefined,
      save: (state) => this.save(state),
      onError: (err, outputLost) => {
        deps.runtime.logger.log(outputLost ? 'error' : 'warn', outputLost ? 'output lost; restarting from checkpoint' : 'checkpoint failed; acks held, retrying', {
          error: errorMessage(err),
        });
        this.onCheckpointFailed();
        if (outputLost) (deps.onFatal ?? ((e: unknown) => { throw e; }))(err);
      },
    });
  }

  protected abstract snapshot(): P;
  /** `parts`: the side hashes saved with the state (see captureParts), by name. */
  protected abstract restorePlane(state: P, parts: Readonly<Record<string, Record<string, string>>>): void;
  /** Incremental part of the state, captured right after snapshot() (immutable values, serialised later); written in the same transaction. */
  protected captureParts(): CapturedPartsByHash | undefined {
    return undefined;
  }
  /** Names of the side hashes captureParts writes (read back on restore). */
  protected get partHashes(): readonly string[] {
    return [];
  }
  /** A checkpoint was not saved: the next captureParts must not assume it was. */
  protected onCheckpointFailed(): void {}
  /** Extra writes at each checkpoint (cache snapshots, coalesced outputs). */
  protected async onCheckpoint(): Promise<void> {}

  protected get stateKey(): string {
    return this.name;
  }

  private async save(state: CapturedState | undefined): Promise<void> {
    // Fire-and-forget outputs: one round trip proves the server has taken everything sent so far.
    if (this.deps.bus instanceof NatsBus) await this.deps.bus.flush();
    await this.onCheckpoint();
    if (this.deps.cache && state !== undefined) await this.deps.cache.setStateJson(this.stateKey, state.json, state.parts && (await serialiseParts(state.parts)));
  }

  /** Restores the last checkpoint; waits for Redis (a stateful worker must not start amnesiac). */
  async restore(timeoutMs = 30_000): Promise<void> {
    const cache = this.deps.cache;
    if (!cache) return;
    const deadline = Date.now() + timeoutMs;
    while (!cache.available) {
      if (Date.now() > deadline) throw new AlgoplanesError('CACHE_UNAVAILABLE', `${this.name}: redis unavailable at startup, cannot restore state: ${cache.lastError}`, { retriable: true });
      await new Promise((r) => setTimeout(r, 100));
    }
    const saved = (await cache.getState(this.stateKey)) as SavedState<P> | undefined;
    if (saved) {
      const parts: Record<string, Record<string, string>> = {};
      for (const h of this.partHashes) parts[h] = await cache.getStateParts(this.stateKey, h);
      this.restorePlane(saved.plane, parts);
      this.seqs = { ...saved.seqs };
      this.idx = { ...saved.idx };
      this.restoredCapture = saved.capturedAt ?? 0;
      this.deps.runtime.logger.log('info', 'state restored', { seqs: this.seqs, idx: this.idx });
    }
  }

  /**
   * Unacked messages of a crashed predecessor are redelivered only after ack_wait; waiting for that
   * first makes them arrive before new ones, so the plane sees events in stream order.
   */
  protected async awaitRedeliveries(stream: string, durable: string): Promise<void> {
    const bus = this.deps.bus;
    if (!(bus instanceof NatsBus)) return;
    const info = await bus.jsm.consumers.info(stream, durable);
    if (info.num_ack_pending === 0) return;
    const waitMs = Math.ceil((info.config.ack_wait ?? 30e9) / 1e6) + 200;
    this.deps.runtime.logger.log('info', 'waiting for redelivery of unacked messages', { stream, durable, pending: info.num_ack_pending, waitMs });
    await new Promise((r) => setTimeout(r, waitMs));
  }

  protected async consume<T>(key: string, subject: string, durable: string, schema: PayloadSchema<T>, apply: (data: T, env: Envelope<T>, msg: BusMessage) => void): Promise<void> {
    const m = this.deps.runtime.metrics;
    const log = this.deps.runtime.logger;
    const stage = m.stageLatency.stage(`${this.name}.${key}`);
    const skipBySeq = this.deps.bus.kind !== 'kafka';
    const sub = await this.deps.bus.subscribe(
      subject,
      // Not async: it applies at once and hands back the checkpoint's promise, shared by every input it covers.
      (msg) => {
        m.countBySubject('in', msg.subject);
        if (skipBySeq) {
          const seq = this.seqs[key] ?? 0;
          if (msg.seq < seq || (msg.seq === seq && msg.index <= (this.idx[key] ?? Infinity))) {
            // Already in the saved state: the ack was lost with the crash, the effect was not.
            return this.ckpt.covered();
          }
        }
        let env: Envelope<T>;
        try {
          // The envelope was checked on decode; only the payload is parsed here, with its own schema.
          const parsed = schema.safeParse(msg.envelope.data);
          if (!parsed.success) {
            if (log.enabled('debug')) log.log('debug', 'rejected', { trace_id: msg.envelope.trace_id, subject: msg.subject, seq: msg.seq, error: describeZodError(parsed.error) });
            throw new ValidationError('BAD_PAYLOAD', `${msg.envelope.schema}: ${describeZodError(parsed.error)}`, msg.subject);
          }
          env = parsed.data === msg.envelope.data ? (msg.envelope as Envelope<T>) : { ...msg.envelope, data: parsed.data };
        } catch (err) {
          m.rejects.inc({ reason: err instanceof AlgoplanesError ? err.code : 'INVALID' });
          throw err;
        }
        this.traceId = env.trace_id;
        const t0 = performance.now();
        apply(env.data, env, msg);
        // Recorded only once applied: a message that failed retriably must not be skipped as done on its retry.
        if (skipBySeq) {
          this.seqs[key] = msg.seq;
          this.idx[key] = msg.index;
        }
        stage.observe((performance.now() - t0) / 1000);
        this.traceId = undefined;
        return this.ckpt.covered();
      },
      { durable, maxInFlight: MAX_IN_FLIGHT },
    );
    this.subs.push(sub);
  }

  /**
   * Publishes an output through the ordered outbox (JetStream ack + msgID dedup). It continues the
   * trace of the input being applied unless `traceId` names another (a fill continues its intent's).
   */
  protected emit(subject: string, schema: string, data: unknown, opts: PublishOptions & { msgId: string; traceId?: string }): void {
    const traceId = opts.traceId ?? this.traceId;
    // makeEnvelope's fields, with the timestamp's ISO text shared by the outputs of one millisecond (formatting it per output was a visible share of the data worker).
    // The envelope's id is its publish's dedup id, unique by construction: a replay re-emits the same
    // envelope, and no random UUID is drawn per output.
    const env: Envelope = { id: opts.msgId, timestamp: isoNow(), producer_service: this.name, trace_id: traceId ?? randomUUID(), schema, data };
    const m = this.deps.runtime.metrics;
    const log = this.deps.runtime.logger;
    if (log.enabled('debug')) log.log('debug', 'emitted', { trace_id: env.trace_id, subject, schema, msg_id: opts.msgId });
    const bus = this.deps.bus;
    if (opts.fireAndForget && bus instanceof NatsBus) {
      // Nothing to await (the checkpoint's flush confirms it): no promise per output on the hot path.
      try {
        bus.enqueue(subject, env, opts.msgId, opts.pack, opts.lazy);
      } catch (err) {
        this.ckpt.outputFailed(err);
      }
      m.countBySubject('out', subject);
      return;
    }
    this.ckpt.emit(async () => {
      await this.deps.bus.publish(subject, env, { msgId: opts.msgId, fireAndForget: opts.fireAndForget, lazy: opts.lazy, pack: opts.pack });
      m.countBySubject('out', subject);
    });
  }

  /** Graceful stop: no new messages, final checkpoint (acks everything applied), then close. */
  async stop(): Promise<void> {
    const closing = Promise.all(this.subs.map((s) => s.close()));
    await this.ckpt.flush();
    await closing;
    await this.ckpt.close();
  }
}
