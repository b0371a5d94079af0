/**
 * Order function core: SQS FIFO intents -> claim clientOrderId -> reserve exposure -> order plane
 * (risk + paper broker) -> persist order, fills, positions, audit. Every step is idempotent and the
 * order item records how far it got, so a redelivered batch resumes instead of trading twice.
 */
import { DEFAULTS } from '../../shared/config/defaults.ts';
import { OrderIntentSchema, openEnvelope, type ExecutionReport, type Fill, type Instrument, type Order, type OrderIntent } from '../../shared/domain/index.ts';
import { parseJsonBody, processBatch, sqsItems, traceIdOfEnvelope, type BatchItem, type BatchResponse, type DeadLetterSink, type Observability, type SqsEvent } from '../../shared/lambda/index.ts';
import { OrderPlane, applyOrderEvent, isTerminal, newOrder, type PaperBrokerOptions, type RiskLimits } from '../../shared/order-plane/index.ts';
import type { ExposureLimits, Store } from '../../shared/store/index.ts';
import { ConfigError, TransientError, ValidationError } from '../../shared/util/errors.ts';

export interface OrderAppOptions {
  readonly accountId: string;
  readonly limits: RiskLimits;
  readonly initialCash: number;
  /** How long one attempt owns an order before a redelivery may resume it (>= the function timeout). */
  readonly leaseMs: number;
  readonly now?: () => number;
}

export interface OrderAppDeps {
  readonly store: Store;
  readonly dlq: DeadLetterSink;
  readonly obs: Observability;
}

const ACTOR = 'order-function';

export function createOrderApp(opts: OrderAppOptions, deps: OrderAppDeps) {
  if (!opts.accountId) throw new ConfigError('order app: accountId is required');
  if (!(opts.leaseMs > 0)) throw new ConfigError(`order app: leaseMs must be > 0, got ${opts.leaseMs}`);
  if (!(opts.initialCash > 0)) throw new ConfigError(`order app: initialCash must be > 0, got ${opts.initialCash}`);
  const now = opts.now ?? Date.now;
  // Limits that span orders are enforced by the store, atomically across every container.
  const exposureLimits: ExposureLimits = {
    maxPositionQty: opts.limits.maxPositionQty,
    maxPositionNotional: opts.limits.maxPositionNotional,
    maxOrdersPerSecond: opts.limits.maxOrdersPerSecond,
    maxGrossExposure: opts.limits.maxGrossExposure,
    maxNetExposure: opts.limits.maxNetExposure,
    maxDailyLoss: opts.limits.maxDailyLoss,
    reducingAtLossFraction: opts.limits.reducingAtLossFraction,
  };
  // Lambda cannot keep working orders between invocations: fill against the decision-time quote or not at all.
  const broker: PaperBrokerOptions = { fillModel: 'quote', latencyUs: 0 };
  const { store, obs } = deps;

  const instrument = (symbol: string): Instrument => ({ ...DEFAULTS.instrument, symbol });

  /** A fresh plane per intent: cross-order limits live in the store, so re-running it is deterministic. */
  function execute(intent: OrderIntent): { order: Order; fills: Fill[]; breached: boolean } {
    const reports: ExecutionReport[] = [];
    let breached = false;
    const plane = new OrderPlane(
      { accountId: opts.accountId, initialCash: opts.initialCash, limits: opts.limits, broker, instrument },
      { execution: (r) => reports.push(r), breach: () => (breached = true) },
    );
    const price = intent.limitPrice ?? intent.decisionPrice;
    plane.onMarket({ kind: 'quote', symbol: intent.symbol, ts: intent.ts, bid: price, ask: price });
    plane.onIntent(intent);
    plane.onMarket({ kind: 'quote', symbol: intent.symbol, ts: intent.ts + 1, bid: price, ask: price });
    let order = plane.knownOrder(intent.clientOrderId) ?? newOrder(intent);
    if (!isTerminal(order.status)) order = applyOrderEvent(order, { type: 'cancelled', ts: intent.ts + 1 });
    return { order, fills: reports.flatMap((r) => (r.fill ? [r.fill] : [])), breached };
  }

  async function finish(order: Order, details: Record<string, unknown>): Promise<void> {
    await store.saveOrder(order, 'done');
    await store.appendAudit(
      { ts: order.updatedTs, actor: ACTOR, action: `order.${order.status}`, entity: `order:${order.clientOrderId}`, details },
      `${order.clientOrderId}:${order.status}`,
    );
    obs.count('Orders');
  }

  async function handleIntent(item: BatchItem): Promise<void> {
    const intent = openEnvelope(parseJsonBody(item), OrderIntentSchema, item.where).data;
    if (intent.accountId !== opts.accountId) {
      throw new ValidationError('FOREIGN_ACCOUNT', `intent for account ${intent.accountId}, this function trades ${opts.accountId}`, item.where);
    }
    const claim = await store.claimOrder(newOrder(intent), { nowMs: now(), leaseMs: opts.leaseMs });
    if (claim.outcome === 'duplicate') {
      obs.logger.info('duplicate intent ignored', { clientOrderId: intent.clientOrderId, status: claim.order.status });
      return;
    }
    if (claim.outcome === 'in-progress') throw new TransientError('ORDER_IN_PROGRESS', `order ${intent.clientOrderId} is being processed by another attempt`);

    if (claim.stage === 'claimed') {
      const reservation = await store.reserveExposure(
        { accountId: intent.accountId, clientOrderId: intent.clientOrderId, symbol: intent.symbol, side: intent.side, qty: intent.qty, price: intent.limitPrice ?? intent.decisionPrice, ts: intent.ts },
        exposureLimits,
      );
      if (reservation.outcome === 'rejected') {
        const { rule, observed, limit } = reservation;
        obs.count('RiskRejects');
        await finish(applyOrderEvent(newOrder(intent), { type: 'rejected', ts: intent.ts, reason: rejectReason(rule, observed, limit) }), { rule, limit, observed });
        return;
      }
      await store.saveOrder(claim.order, 'reserved');
    }

    const { order, fills, breached } = execute(intent);
    for (const fill of fills) {
      if ((await store.recordFill(fill)).outcome === 'recorded') obs.count('Fills');
    }
    await store.settleExposure({ accountId: intent.accountId, clientOrderId: intent.clientOrderId, filledQty: order.filledQty, fillPrice: order.avgFillPrice });
    if (breached) obs.count('RiskRejects');
    await finish(order, { filledQty: order.filledQty, avgFillPrice: order.avgFillPrice, ...(order.rejectReason ? { reason: order.rejectReason } : {}) });
  }

  return {
    async handle(event: SqsEvent): Promise<BatchResponse> {
      const items = sqsItems(event);
      const summary = await processBatch(items, handleIntent, { logger: obs.logger, dlq: deps.dlq, traceIdOf: traceIdOfEnvelope });
      obs.logger.info('batch done', { records: items.length, processed: summary.processed, deadLettered: summary.deadLettered, retriable: summary.retriable });
      return { batchItemFailures: summary.batchItemFailures };
    },
  };
}

function rejectReason(rule: string, observed: number, limit: number): string {
  if (rule === 'MAX_DAILY_LOSS') return `${rule}: today's loss ${observed} has reached the limit ${limit}`;
  if (rule === 'REDUCE_ONLY') return `${rule}: today's loss ${observed} has reached ${limit}; only position-reducing orders pass`;
  return `${rule}: would use ${observed} of ${limit}`;
}
