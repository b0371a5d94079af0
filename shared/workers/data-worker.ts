/**
 * Data worker: raw ingest -> data plane (quality gate, OFI, bars) -> canonical market events.
 * Outputs carry msgIDs derived from the input's envelope id, so a redelivered input republishes
 * nothing new. Rejected events go to the DLQ with reason and original; flags go to notifications.
 */
import { allOf, subjects, DEAD_LETTER_SCHEMA, type DeadLetter } from '../bus/index.ts';
import { DataPlane } from '../data-plane/index.ts';
import { PlaneWorker, type WorkerDeps } from './base.ts';
import { MarketEventPayload } from './payload.ts';

export class DataWorker extends PlaneWorker<null> {
  readonly plane: DataPlane;
  private inputId = '';
  private outputIndex = 0;

  constructor(deps: WorkerDeps) {
    super('data-worker', deps);
    this.plane = new DataPlane(
      {},
      {
        market: (e) => {
          const subject = e.kind === 'ofi' ? subjects.ofi(e.symbol) : subjects.marketEvents(e.symbol);
          // Hot market stream: no per-message broker ack (the checkpoint's flush confirms them), and
          // packed: the events from one input message travel together, as that message's ticks did.
          this.emit(subject, `market.${e.kind}.v1`, e, { msgId: `${this.inputId}:${this.outputIndex++}`, fireAndForget: true, pack: true });
        },
        quarantine: (q) => {
          deps.runtime.metrics.rejects.inc({ reason: q.reason });
          if (q.rejected) {
            const letter: DeadLetter = { originSubject: subjects.rawIngest(q.symbol ?? 'unknown'), reason: q.message, code: q.reason, where: q.where, redeliveries: 0, original: q.raw ?? null };
            this.emit(subjects.dlq(letter.originSubject), DEAD_LETTER_SCHEMA, letter, { msgId: `${this.inputId}:dlq:${this.outputIndex++}` });
          } else {
            // Like a breach: confirmed by the checkpoint's flush, not acked one by one (a bad feed can flag every tick).
            this.emit(subjects.notifications('data-quality'), 'data.quality.v1', q, { msgId: `${this.inputId}:flag:${this.outputIndex++}`, fireAndForget: true });
          }
        },
      },
    );
  }

  protected snapshot(): null {
    return null;
  }

  protected restorePlane(): void {}

  async start(): Promise<void> {
    await this.deps.bus.assertProvisioned([allOf('rawIngest'), subjects.marketEvents('X'), subjects.ofi('X'), subjects.dlq('md.raw.X')]);
    await this.consume('raw', allOf('rawIngest'), 'data-worker', MarketEventPayload, (e, env, msg) => {
      this.inputId = env.id;
      this.outputIndex = 0;
      this.plane.process(e, `${msg.subject}#${msg.seq}`);
    });
  }

  override async stop(): Promise<void> {
    this.plane.flush();
    await super.stop();
  }
}
