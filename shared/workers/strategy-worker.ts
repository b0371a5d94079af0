/** Strategy worker: the strategy plane fed by market events and execution reports; emits intents. */
import { allOf, subjects } from '../bus/index.ts';
import type { RedisCache } from '../cache/index.ts';
import { OnlineCostModel } from '../order-plane/index.ts';
import { StrategyPlane, createStrategy, type StrategyPlaneSnapshot } from '../strategy-plane/index.ts';
import { PlaneWorker, type WorkerDeps } from './base.ts';
import { ExecutionReportPayload, MarketEventPayload } from './payload.ts';
import { memoInstrument } from './plane-config.ts';

export interface StrategyWorkerOptions {
  accountId: string;
  strategy: string;
  params: Record<string, string | number | boolean>;
  qty: number;
}

export class StrategyWorker extends PlaneWorker<StrategyPlaneSnapshot> {
  readonly plane: StrategyPlane;

  constructor(deps: WorkerDeps & { cache: RedisCache }, private readonly opts: StrategyWorkerOptions) {
    super('strategy-worker', deps);
    this.plane = new StrategyPlane(
      {
        accountId: opts.accountId,
        strategies: [createStrategy(opts.strategy, opts.params)],
        sizing: { kind: 'fixed-qty', qty: opts.qty },
        instrument: memoInstrument(),
        costModel: new OnlineCostModel(),
      },
      {
        // One per bar, informational and off the tick-to-fill path: no broker ack (the checkpoint's flush
        // confirms them, the msgID dedups a replay), packed, and lazily batched into shared socket writes.
        signal: (s) => this.emit(subjects.signals(s.symbol), 'strat.signal.v1', s, { msgId: `${s.strategyId}:${s.symbol}:${s.ts}:${s.strength}`, fireAndForget: true, lazy: true, pack: true }),
        target: () => deps.runtime.metrics.countBySubject('out', 'targets.internal'),
        // Packed: the intents decided in one turn of the event loop travel together, across the market
        // messages it handled (the order plane dedups on clientOrderId, so a replay that packs them
        // differently is harmless). No broker ack per pack (a JetStream request per pack was a tenth of
        // the worker's time): the checkpoint's flush confirms them before any input is acked.
        intent: (i) => this.emit(subjects.intents(i.symbol), 'orders.intent.v1', i, { msgId: i.clientOrderId, fireAndForget: true, pack: 'turn' }),
      },
    );
  }

  protected override get stateKey(): string {
    return `strategy-worker:${this.opts.accountId}:${this.opts.strategy}`;
  }

  protected snapshot(): StrategyPlaneSnapshot {
    return this.plane.snapshot();
  }

  protected restorePlane(state: StrategyPlaneSnapshot): void {
    this.plane.restore(state);
  }

  async start(): Promise<void> {
    await this.deps.bus.assertProvisioned([allOf('marketEvents'), allOf('executions'), subjects.intents('X'), subjects.signals('X')]);
    await this.restore();
    await this.awaitRedeliveries('MARKET', 'strategy-worker');
    await this.awaitRedeliveries('EXECUTIONS', 'strategy-worker');
    await this.consume('market', allOf('marketEvents'), 'strategy-worker', MarketEventPayload, (e) => this.plane.onMarket(e));
    await this.consume('executions', allOf('executions'), 'strategy-worker', ExecutionReportPayload, (r) => this.plane.onExecution(r));
  }
}
