/**
 * Strategy function core: Kinesis/MSK batches of canonical market events -> strategy plane (warm
 * state loaded from and saved to the store) -> order intents on the SQS FIFO queue.
 */
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { MarketEventSchema, openEnvelope, type Instrument, type OrderIntent, type Signal } from '../../shared/domain/index.ts';
import {
  parseJsonBody,
  processBatch,
  streamItems,
  traceIdOfEnvelope,
  type BatchItem,
  type BatchResponse,
  type DeadLetterSink,
  type IntentSender,
  type Observability,
  type StreamEvent,
} from '../../shared/lambda/index.ts';
import { StrategyPlane, createStrategy, type ParamValue, type SizingConfig } from '../../shared/strategy-plane/index.ts';
import type { Store } from '../../shared/store/index.ts';
import { ConfigError, TransientError } from '../../shared/util/errors.ts';

export interface StrategyAppOptions {
  readonly accountId: string;
  readonly strategy: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly sizing: SizingConfig;
}

export interface StrategyAppDeps {
  readonly store: Store;
  readonly intents: IntentSender;
  readonly dlq: DeadLetterSink;
  readonly obs: Observability;
}

export function createStrategyApp(opts: StrategyAppOptions, deps: StrategyAppDeps) {
  if (!opts.accountId) throw new ConfigError('strategy app: accountId is required');
  const { store, obs } = deps;
  const stateKey = `${opts.accountId}#${opts.strategy}`;
  const instrument = (symbol: string): Instrument => ({ ...DEFAULTS.instrument, symbol });
  let intents: OrderIntent[] = [];
  let signals: Signal[] = [];
  const build = () =>
    new StrategyPlane(
      { accountId: opts.accountId, strategies: [createStrategy(opts.strategy, opts.params)], sizing: opts.sizing, instrument },
      { signal: (s) => signals.push(s), target: () => undefined, intent: (i) => intents.push(i) },
    );
  // Fail the cold start, not the first batch, on a bad strategy name or sizing.
  build();
  /** The warm plane and the store version it reflects; dropped after a failure so the next batch reloads. */
  let warm: { plane: StrategyPlane; version: number } | undefined;

  async function ensureWarm(): Promise<{ plane: StrategyPlane; version: number }> {
    const saved = await store.loadStrategyState(stateKey);
    const version = saved?.version ?? 0;
    if (warm && warm.version === version) return warm;
    const plane = build();
    if (saved) plane.restore(saved.state);
    warm = { plane, version };
    return warm;
  }

  return {
    async handle(event: StreamEvent): Promise<BatchResponse> {
      intents = [];
      signals = [];
      try {
        const state = await ensureWarm();
        const handleRecord = async (item: BatchItem) => {
          state.plane.onMarket(openEnvelope(parseJsonBody(item), MarketEventSchema, item.where).data);
        };
        const items = streamItems(event);
        const summary = await processBatch(items, handleRecord, { logger: obs.logger, dlq: deps.dlq, traceIdOf: traceIdOfEnvelope });
        if (summary.batchItemFailures.length > 0) {
          // The plane has consumed records past the failure; replaying needs the saved state, not this one.
          throw new TransientError('BATCH_RETRY', `${summary.batchItemFailures.length} records failed; retrying from saved warm state`);
        }
        await deps.intents.send(intents, items[0] ? (traceIdOfEnvelope(items[0]) ?? items[0].id) : 'empty');
        for (const s of signals) await store.putSignal(s);
        obs.count('Signals', signals.length);
        obs.count('OrderIntents', intents.length);
        const saved = await store.saveStrategyState(stateKey, state.plane.snapshot(), state.version);
        if (saved === 'conflict') {
          obs.logger.warn('warm state changed underneath this container; reloading next batch', { stateKey });
          warm = undefined;
        } else {
          state.version++;
        }
        return { batchItemFailures: [] };
      } catch (err) {
        warm = undefined;
        throw err;
      }
    },
  };
}
