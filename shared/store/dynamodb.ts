/** DynamoDB implementation of the Store port over the single table (layout in keys.ts). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { AuditEventSchema, FillSchema, OrderSchema, PositionSchema, SignalSchema, parseOrThrow, utcDay } from '../domain/index.ts';
import type { AuditEvent, Fill, Order, Position, Signal } from '../domain/index.ts';
import { ConfigError, TransientError } from '../util/errors.ts';
import { cancellationCodes, isConditionalCheckFailure, storeError } from './errors.ts';
import { judgeReservation, orderSecond, pnlFloors, positionCap, reducesPosition, settleDeltas, type Reservation } from './exposure.ts';
import { ORDER_RATE_TTL_SECONDS, SIGNAL_TTL_SECONDS, exposureAttr, key, padTs } from './keys.ts';
import { applyFillToPosition } from './position.ts';
import type {
  ClaimOptions,
  ClaimOutcome,
  ExposureLimits,
  ExposureView,
  IdempotencyOptions,
  IdempotencyOutcome,
  OrderStage,
  RecordFillOutcome,
  ReserveOutcome,
  ReserveRequest,
  SaveStateOutcome,
  SettleOutcome,
  SettleRequest,
  Store,
  StoredOrder,
  SymbolExposure,
  VersionedState,
} from './port.ts';
import { BacktestSummarySchema, RiskLimitsRecordSchema, type BacktestSummary, type RiskLimitsRecord } from './schemas.ts';

export interface DynamoStoreOptions {
  tableName: string;
  client: DynamoDBClient;
  /** Optimistic-concurrency retries (position and exposure races) before giving up with TransientError. */
  maxRaceRetries?: number;
}

type Item = Record<string, unknown>;

const OrderStageSchema = z.enum(['claimed', 'reserved', 'done']);
const ReservationSchema = z.object({ symbol: z.string(), side: z.enum(['buy', 'sell']), qty: z.number(), notional: z.number() });

export class DynamoStore implements Store {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly maxRaceRetries: number;

  constructor(opts: DynamoStoreOptions) {
    if (!opts.tableName) throw new ConfigError('DynamoStore: tableName is required');
    if (opts.maxRaceRetries !== undefined && !(Number.isInteger(opts.maxRaceRetries) && opts.maxRaceRetries > 0)) {
      throw new ConfigError(`DynamoStore: maxRaceRetries must be a positive integer, got ${opts.maxRaceRetries}`);
    }
    this.table = opts.tableName;
    this.maxRaceRetries = opts.maxRaceRetries ?? 50;
    this.doc = DynamoDBDocumentClient.from(opts.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async claimOrder(order: Order, opts: ClaimOptions): Promise<ClaimOutcome> {
    const leaseUntilMs = opts.nowMs + opts.leaseMs;
    const claimed = await this.conditional('claimOrder', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...this.orderItem(order, 'claimed'), leaseUntilMs },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    if (claimed) return { outcome: 'claimed', order, stage: 'claimed' };

    const existing = await this.getItem('claimOrder', key.account(order.accountId), key.order(order.clientOrderId));
    if (!existing) throw new TransientError('STORE_RACE', `claimOrder: ${order.clientOrderId} vanished after a failed claim`);
    const stored = this.readOrder(existing);
    const lease = Number(existing.leaseUntilMs ?? 0);
    if (stored.stage === 'done') return { outcome: 'duplicate', order: stored.order };
    if (lease > opts.nowMs) return { outcome: 'in-progress', order: stored.order };
    // The previous owner's lease ran out: take over only if nobody else did in the meantime.
    const tookOver = await this.conditional('claimOrder', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key.account(order.accountId), sk: key.order(order.clientOrderId) },
          UpdateExpression: 'SET leaseUntilMs = :next',
          ConditionExpression: 'leaseUntilMs = :prev AND stage <> :done',
          ExpressionAttributeValues: { ':next': leaseUntilMs, ':prev': lease, ':done': 'done' },
        }),
      ),
    );
    return tookOver ? { outcome: 'resumed', order: stored.order, stage: stored.stage } : { outcome: 'in-progress', order: stored.order };
  }

  async saveOrder(order: Order, stage: OrderStage): Promise<void> {
    const item = this.orderItem(order, stage);
    await this.run('saveOrder', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: item.pk, sk: item.sk },
          UpdateExpression: 'SET #data = :data, stage = :stage, gsi1pk = :g1, gsi1sk = :g2',
          ExpressionAttributeNames: { '#data': 'data' },
          ExpressionAttributeValues: { ':data': item.data, ':stage': stage, ':g1': item.gsi1pk, ':g2': item.gsi1sk },
        }),
      ),
    );
  }

  async getOrder(accountId: string, clientOrderId: string): Promise<StoredOrder | undefined> {
    const item = await this.getItem('getOrder', key.account(accountId), key.order(clientOrderId));
    return item && this.readOrder(item);
  }

  async recordFill(fill: Fill): Promise<RecordFillOutcome> {
    const pk = key.account(fill.accountId);
    return this.raceLoop('recordFill', async () => {
      const posItem = await this.getItem('recordFill', pk, key.position(fill.symbol));
      const version = Number(posItem?.version ?? 0);
      const current = posItem ? parseOrThrow(PositionSchema, posItem.data, `store:${pk}/${key.position(fill.symbol)}`) : undefined;
      const position = applyFillToPosition(current, fill);
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: { pk, sk: key.fill(fill.clientOrderId, fill.execId), type: 'fill', data: fill, gsi1pk: `FILLS#${fill.accountId}#${fill.symbol}`, gsi1sk: padTs(fill.ts) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.table,
                  Item: { pk, sk: key.position(fill.symbol), type: 'position', data: position, version: version + 1 },
                  ...versionCondition(version),
                },
              },
              {
                Update: {
                  TableName: this.table,
                  Key: { pk, sk: key.dailyPnl(utcDay(fill.ts)) },
                  UpdateExpression: 'SET #type = :type ADD pnl :pnl',
                  ExpressionAttributeNames: { '#type': 'type' },
                  ExpressionAttributeValues: { ':type': 'daily-pnl', ':pnl': position.realizedPnl - (current?.realizedPnl ?? 0) },
                },
              },
            ],
          }),
        );
        return { outcome: 'recorded', position } as const;
      } catch (err) {
        const codes = cancellationCodes(err);
        if (codes?.[0] === 'ConditionalCheckFailed') return { outcome: 'duplicate' } as const;
        if (codes && codes.every((c) => c === 'None' || c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) return RACE;
        throw storeError('recordFill', err);
      }
    });
  }

  async listFills(accountId: string, clientOrderId: string): Promise<Fill[]> {
    const items = await this.query('listFills', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': key.account(accountId), ':prefix': key.fillPrefix(clientOrderId) },
    });
    return items.map((i) => parseOrThrow(FillSchema, i.data, `store:${String(i.pk)}/${String(i.sk)}`));
  }

  async getPosition(accountId: string, symbol: string): Promise<Position | undefined> {
    const item = await this.getItem('getPosition', key.account(accountId), key.position(symbol));
    return item && parseOrThrow(PositionSchema, item.data, `store:${String(item.pk)}/${String(item.sk)}`);
  }

  async listPositions(accountId: string): Promise<Position[]> {
    const items = await this.query('listPositions', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': key.account(accountId), ':prefix': key.positionPrefix },
    });
    return items.map((i) => parseOrThrow(PositionSchema, i.data, `store:${String(i.pk)}/${String(i.sk)}`));
  }

  async reserveExposure(req: ReserveRequest, limits: ExposureLimits): Promise<ReserveOutcome> {
    const notional = req.qty * req.price;
    const buy = req.side === 'buy';
    const acctKey = { pk: key.account(req.accountId), sk: key.exposure };
    const dayKey = { pk: key.account(req.accountId), sk: key.dailyPnl(utcDay(req.ts)) };
    const second = orderSecond(req.ts);
    const rateKey = { pk: key.account(req.accountId), sk: key.orderRate(second) };
    const cap = positionCap(limits, req.price);
    const names = {
      '#res': exposureAttr.reservation(req.clientOrderId),
      '#gross': exposureAttr.gross,
      '#use': buy ? exposureAttr.long(req.symbol) : exposureAttr.short(req.symbol),
      '#net': buy ? exposureAttr.netLong : exposureAttr.netShort,
    };
    // A missing counter counts as 0, so it may only pass when the order fits the limit on its own.
    const atMost = (attr: string, placeholder: string, fitsAlone: boolean) => (fitsAlone ? `(attribute_not_exists(${attr}) OR ${attr} <= ${placeholder})` : `${attr} <= ${placeholder}`);
    const limitParts = [
      atMost('#use', ':useMax', req.qty <= cap),
      atMost('#gross', ':grossMax', notional <= limits.maxGrossExposure),
      atMost('#net', ':netMax', notional <= limits.maxNetExposure),
    ];
    const reservation: Reservation = { symbol: req.symbol, side: req.side, qty: req.qty, notional };
    const floors = pnlFloors(limits);
    let reducing = false;
    return this.raceLoop('reserveExposure', async () => {
      // Near the daily-loss limit only a reducing order may pass, and the exposure item must still say it reduces.
      const parts = reducing ? [...limitParts, '#use <= :reduceMax'] : limitParts;
      const transaction = new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: acctKey,
              UpdateExpression: 'SET #res = :res ADD #gross :notional, #use :qty, #net :notional',
              ConditionExpression: `attribute_not_exists(#res) AND ${parts.join(' AND ')}`,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: {
                ':res': reservation,
                ':notional': notional,
                ':qty': req.qty,
                ':useMax': cap - req.qty,
                ':grossMax': limits.maxGrossExposure - notional,
                ':netMax': limits.maxNetExposure - notional,
                ...(reducing ? { ':reduceMax': -req.qty } : {}),
              },
            },
          },
          {
            // Counted in the same transaction: a refused or repeated reservation uses no rate.
            Update: {
              TableName: this.table,
              Key: rateKey,
              UpdateExpression: 'ADD #n :one SET #ttl = if_not_exists(#ttl, :ttl)',
              ConditionExpression: 'attribute_not_exists(#n) OR #n < :rateMax',
              ExpressionAttributeNames: { '#n': 'orders', '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':one': 1, ':rateMax': limits.maxOrdersPerSecond, ':ttl': second + ORDER_RATE_TTL_SECONDS },
            },
          },
          {
            ConditionCheck: {
              TableName: this.table,
              Key: dayKey,
              ConditionExpression: 'attribute_not_exists(pnl) OR pnl > :floor',
              ExpressionAttributeValues: { ':floor': reducing ? floors.halt : floors.reduce },
            },
          },
        ],
      });
      try {
        await this.doc.send(transaction);
        return { outcome: 'reserved' } as const;
      } catch (err) {
        const codes = cancellationCodes(err);
        if (!codes || !codes.every((c) => c === 'None' || c === 'ConditionalCheckFailed' || c === 'TransactionConflict')) throw storeError('reserveExposure', err);
      }
      // Find out which condition failed; if none does any more, the state moved meanwhile: try again.
      const [item, dayPnl, rate] = await Promise.all([
        this.getItem('reserveExposure', acctKey.pk, acctKey.sk),
        this.readDailyPnl('reserveExposure', dayKey.pk, dayKey.sk),
        this.getItem('reserveExposure', rateKey.pk, rateKey.sk),
      ]);
      const use = Number(item?.[names['#use']] ?? 0);
      reducing = reducesPosition(req, use);
      const state = { reserved: item?.[names['#res']] !== undefined, ordersInSecond: Number(rate?.orders ?? 0), use, grossUse: Number(item?.[names['#gross']] ?? 0), netUse: Number(item?.[names['#net']] ?? 0), dayPnl };
      return judgeReservation(req, limits, state) ?? RACE;
    });
  }

  async settleExposure(req: SettleRequest): Promise<SettleOutcome> {
    const resAttr = exposureAttr.reservation(req.clientOrderId);
    return this.raceLoop('settleExposure', async () => {
      const item = await this.getItem('settleExposure', key.account(req.accountId), key.exposure);
      if (item?.[resAttr] === undefined) return 'not-reserved' as const;
      const res = parseOrThrow(ReservationSchema, item[resAttr], `store:${key.account(req.accountId)}/${key.exposure}.${resAttr}`);
      const sym = res.symbol;
      const version = Number(item[exposureAttr.version(sym)] ?? 0);
      const d = settleDeltas(
        res,
        { filledQty: Number(item[exposureAttr.filledQty(sym)] ?? 0), filledNotional: Number(item[exposureAttr.filledNotional(sym)] ?? 0) },
        req.filledQty,
        req.fillPrice,
      );
      const ok = await this.conditional('settleExposure', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: key.account(req.accountId), sk: key.exposure },
            UpdateExpression: 'SET #fq = :fq, #fn = :fn, #ver = :nextVer REMOVE #res ADD #gross :dGross, #long :dLong, #short :dShort, #netLong :dNetLong, #netShort :dNetShort',
            ConditionExpression: `attribute_exists(#res) AND ${version === 0 ? 'attribute_not_exists(#ver)' : '#ver = :ver'}`,
            ExpressionAttributeNames: {
              '#res': resAttr,
              '#fq': exposureAttr.filledQty(sym),
              '#fn': exposureAttr.filledNotional(sym),
              '#ver': exposureAttr.version(sym),
              '#gross': exposureAttr.gross,
              '#long': exposureAttr.long(sym),
              '#short': exposureAttr.short(sym),
              '#netLong': exposureAttr.netLong,
              '#netShort': exposureAttr.netShort,
            },
            ExpressionAttributeValues: {
              ':fq': d.newFilledQty,
              ':fn': d.newFilledNotional,
              ':nextVer': version + 1,
              ':dGross': d.dGross,
              ':dLong': d.dLong,
              ':dShort': d.dShort,
              ':dNetLong': d.dNetLong,
              ':dNetShort': d.dNetShort,
              ...(version === 0 ? {} : { ':ver': version }),
            },
          }),
        ),
      );
      return ok ? ('settled' as const) : RACE;
    });
  }

  async getExposure(accountId: string): Promise<ExposureView> {
    const item = (await this.getItem('getExposure', key.account(accountId), key.exposure)) ?? {};
    const symbols: Record<string, SymbolExposure> = {};
    let openReservations = 0;
    const sym = (s: string): SymbolExposure => (symbols[s] ??= { longUse: 0, shortUse: 0, filledQty: 0, filledNotional: 0 });
    for (const [name, value] of Object.entries(item)) {
      const hash = name.indexOf('#');
      if (hash < 0) continue;
      const [kind, rest] = [name.slice(0, hash), name.slice(hash + 1)];
      if (kind === 'res') openReservations++;
      else if (kind === 'long') symbols[rest] = { ...sym(rest), longUse: Number(value) };
      else if (kind === 'short') symbols[rest] = { ...sym(rest), shortUse: Number(value) };
      else if (kind === 'fq') symbols[rest] = { ...sym(rest), filledQty: Number(value) };
      else if (kind === 'fn') symbols[rest] = { ...sym(rest), filledNotional: Number(value) };
    }
    return {
      grossUse: Number(item[exposureAttr.gross] ?? 0),
      netLongUse: Number(item[exposureAttr.netLong] ?? 0),
      netShortUse: Number(item[exposureAttr.netShort] ?? 0),
      symbols,
      openReservations,
    };
  }

  async getDailyPnl(accountId: string, day: number): Promise<number> {
    return this.readDailyPnl('getDailyPnl', key.account(accountId), key.dailyPnl(day));
  }

  async putSignal(signal: Signal): Promise<void> {
    await this.run('putSignal', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: key.signals(signal.strategyId, signal.symbol),
            sk: padTs(signal.ts),
            type: 'signal',
            data: signal,
            ttl: Math.floor(signal.ts / 1e6) + SIGNAL_TTL_SECONDS,
          },
        }),
      ),
    );
  }

  async listSignals(strategyId: string, symbol: string): Promise<Signal[]> {
    const items = await this.query('listSignals', { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': key.signals(strategyId, symbol) } });
    return items.map((i) => parseOrThrow(SignalSchema, i.data, `store:${String(i.pk)}/${String(i.sk)}`));
  }

  async putBacktestSummary(summary: BacktestSummary): Promise<void> {
    await this.run('putBacktestSummary', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: key.backtest(summary.runId),
            sk: key.summary,
            type: 'backtest',
            data: summary,
            gsi1pk: key.backtestIndex,
            gsi1sk: `${padTs(summary.createdTs)}#${summary.runId}`,
          },
        }),
      ),
    );
  }

  async getBacktestSummary(runId: string): Promise<BacktestSummary | undefined> {
    const item = await this.getItem('getBacktestSummary', key.backtest(runId), key.summary);
    return item && parseOrThrow(BacktestSummarySchema, item.data, `store:${key.backtest(runId)}`);
  }

  async appendAudit(event: AuditEvent, id: string): Promise<'appended' | 'duplicate'> {
    const sk = key.auditEntry(event.ts, id);
    const appended = await this.conditional('appendAudit', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: key.audit(event.entity), sk, type: 'audit', data: event, gsi1pk: `AUDITDAY#${utcDay(event.ts)}`, gsi1sk: `${sk}#${event.entity}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return appended ? 'appended' : 'duplicate';
  }

  async listAudit(entity: string): Promise<AuditEvent[]> {
    const items = await this.query('listAudit', { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': key.audit(entity) } });
    return items.map((i) => parseOrThrow(AuditEventSchema, i.data, `store:${String(i.pk)}/${String(i.sk)}`));
  }

  async putRiskLimits(accountId: string, limits: RiskLimitsRecord): Promise<void> {
    await this.run('putRiskLimits', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: key.account(accountId), sk: key.riskLimits, type: 'risk-limits', data: limits } })),
    );
  }

  async getRiskLimits(accountId: string): Promise<RiskLimitsRecord | undefined> {
    const item = await this.getItem('getRiskLimits', key.account(accountId), key.riskLimits);
    return item && parseOrThrow(RiskLimitsRecordSchema, item.data, `store:${key.account(accountId)}/${key.riskLimits}`);
  }

  loadCostModel(k: string): Promise<VersionedState | undefined> {
    return this.loadVersioned('loadCostModel', key.costModel(k));
  }

  saveCostModel(k: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome> {
    return this.saveVersioned('saveCostModel', key.costModel(k), state, expectedVersion);
  }

  loadStrategyState(k: string): Promise<VersionedState | undefined> {
    return this.loadVersioned('loadStrategyState', key.strategyState(k));
  }

  saveStrategyState(k: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome> {
    return this.saveVersioned('saveStrategyState', key.strategyState(k), state, expectedVersion);
  }

  async beginIdempotent(k: string, opts: IdempotencyOptions): Promise<IdempotencyOutcome> {
    const pk = key.idempotency(k);
    for (;;) {
      // Claim when absent, expired (TTL deletion lags) or its in-progress lease has lapsed.
      const claimed = await this.conditional('beginIdempotent', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk, sk: key.state, type: 'idempotency', status: 'in-progress', leaseUntilMs: opts.nowMs + opts.leaseMs, ttl: Math.floor(opts.nowMs / 1000) + opts.ttlSeconds },
            ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :nowS OR (#status = :inProgress AND leaseUntilMs < :nowMs)',
            ExpressionAttributeNames: { '#ttl': 'ttl', '#status': 'status' },
            ExpressionAttributeValues: { ':nowS': Math.floor(opts.nowMs / 1000), ':inProgress': 'in-progress', ':nowMs': opts.nowMs },
          }),
        ),
      );
      if (claimed) return { status: 'new' };
      const item = await this.getItem('beginIdempotent', pk, key.state);
      if (!item) continue;
      if (item.status === 'completed') return { status: 'completed', result: JSON.parse(String(item.json)) };
      return { status: 'in-progress' };
    }
  }

  async completeIdempotent(k: string, result: unknown, opts: IdempotencyOptions): Promise<void> {
    await this.run('completeIdempotent', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: key.idempotency(k), sk: key.state, type: 'idempotency', status: 'completed', json: JSON.stringify(result ?? null), ttl: Math.floor(opts.nowMs / 1000) + opts.ttlSeconds },
        }),
      ),
    );
  }

  async releaseIdempotent(k: string): Promise<void> {
    await this.run('releaseIdempotent', () => this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: key.idempotency(k), sk: key.state } })));
  }

  private async loadVersioned(op: string, pk: string): Promise<VersionedState | undefined> {
    const item = await this.getItem(op, pk, key.state);
    if (!item) return undefined;
    // Stored as JSON text: warm state may hold shapes DynamoDB maps reject (empty sets, sparse arrays).
    return { state: JSON.parse(String(item.json)), version: Number(item.version) };
  }

  private async saveVersioned(op: string, pk: string, state: unknown, expectedVersion: number): Promise<SaveStateOutcome> {
    const saved = await this.conditional(op, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk, sk: key.state, type: 'state', json: JSON.stringify(state), version: expectedVersion + 1 },
          ...versionCondition(expectedVersion),
        }),
      ),
    );
    return saved ? 'saved' : 'conflict';
  }

  private orderItem(order: Order, stage: OrderStage) {
    return {
      pk: key.account(order.accountId),
      sk: key.order(order.clientOrderId),
      type: 'order',
      data: order,
      stage,
      gsi1pk: key.ordersBySymbol(order.accountId, order.symbol),
      gsi1sk: `${padTs(order.createdTs)}#${order.clientOrderId}`,
    };
  }

  private readOrder(item: Item): StoredOrder {
    const where = `store:${String(item.pk)}/${String(item.sk)}`;
    return { order: parseOrThrow(OrderSchema, item.data, where), stage: parseOrThrow(OrderStageSchema, item.stage, `${where}.stage`) };
  }

  private async readDailyPnl(op: string, pk: string, sk: string): Promise<number> {
    return Number((await this.getItem(op, pk, sk))?.pnl ?? 0);
  }

  private async getItem(op: string, pk: string, sk: string): Promise<Item | undefined> {
    const out = await this.run(op, () => this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })));
    return out.Item;
  }

  private async query(op: string, input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.run(op, () => this.doc.send(new QueryCommand({ ...input, TableName: this.table, ConsistentRead: true, ExclusiveStartKey: start })));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async run<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storeError(op, err);
    }
  }

  /** Runs a conditional write: false when its condition failed (a domain outcome, not an error). */
  private async conditional(op: string, fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (isConditionalCheckFailure(err)) return false;
      throw storeError(op, err);
    }
  }

  /** Re-runs an optimistic read-modify-write until it stops losing races, with jittered backoff. */
  private async raceLoop<T>(op: string, attempt: () => Promise<T | typeof RACE>): Promise<T> {
    for (let i = 0; i < this.maxRaceRetries; i++) {
      const r = await attempt();
      if (r !== RACE) return r;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * 2 ** Math.min(i, 5))));
    }
    throw new TransientError('STORE_CONTENTION', `${op}: still losing optimistic-concurrency races after ${this.maxRaceRetries} attempts`);
  }
}

/** Marker for "lost a race, read again and retry". */
const RACE: unique symbol = Symbol('race');

function versionCondition(expectedVersion: number) {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(pk)' }
    : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } };
}
