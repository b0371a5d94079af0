/**
 * Event-driven backtester: one clock (the data's event time), one in-process bus, and the same plane
 * code that runs in workers and Lambdas. Deterministic: the same data and options give the same fills.
 *
 * Per market event the planes run in a fixed order:
 *   1. the data plane checks quality and publishes the canonical event (or quarantines it);
 *   2. the order plane sees it first, so orders decided on earlier events fill on this one
 *      (market orders at the next bar's open), and marks positions;
 *   3. the strategy plane sees it and may emit intents, which reach the order plane's risk checks
 *      after the strategy returns (run-to-completion bus) and fill on a later event.
 */
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { ExecutionReport, Fill, Instrument, MarketEvent, OrderIntent, PortfolioSnapshot, RiskBreach } from '../domain/index.ts';
import type { QuarantineEntry } from '../domain/system.ts';
import { InstrumentSchema } from '../domain/index.ts';
import { DEFAULTS } from '../config/defaults.ts';
import { DataPlane, JsonlQuarantine, openMarketSource } from '../data-plane/index.ts';
import { StrategyPlane, createStrategy, type SizingConfig } from '../strategy-plane/index.ts';
import { OrderPlane, OnlineCostModel, RiskLimitsSchema, type RiskLimits } from '../order-plane/index.ts';
import { PerformanceTracker } from './stats.ts';
import { FillsCsvWriter, writeReport, type BacktestReport } from './report/index.ts';
import { InProcessBus } from './in-process-bus.ts';
import { BacktestOptionsSchema, type BacktestInput, type BacktestOptions } from './options.ts';

type Topics = {
  market: MarketEvent;
  intent: OrderIntent;
  execution: ExecutionReport;
};

export interface BacktestHooks {
  /** Called with the bytes read so far each time reading advances, for progress bars. */
  onProgress?(bytesRead: number, totalBytes: number): void;
  /** Risk limits; by default the env-free defaults (a backtest must not depend on the shell it runs in). */
  limits?: Partial<RiskLimits>;
  /**
   * Keep every fill in `result.fills` (default true). Long runs that write fills.csv can turn this
   * off so memory does not grow with the number of fills.
   */
  keepFills?: boolean;
}

export interface BacktestResult {
  readonly options: BacktestOptions;
  readonly report: BacktestReport;
  /** Every fill in order, unless hooks.keepFills was false. */
  readonly fills: readonly Fill[];
  readonly breaches: readonly RiskBreach[];
  readonly finalPortfolio: PortfolioSnapshot;
  /** Directory the report files were written to, when outDir was given. */
  readonly outDir?: string;
}

export async function runBacktest(input: BacktestInput, hooks: BacktestHooks = {}): Promise<BacktestResult> {
  const options = BacktestOptionsSchema.parse(input);
  const source = await openMarketSource(options.dataPath, { symbol: options.symbol });
  const instrument = makeInstrument(source.symbol, options);
  const instrumentOf = (symbol: string): Instrument => (symbol === instrument.symbol ? instrument : { ...instrument, symbol });

  const outDir = options.outDir ? resolve(options.outDir) : undefined;
  if (outDir) mkdirSync(outDir, { recursive: true });
  const quarantine = outDir ? new JsonlQuarantine(join(outDir, 'quarantine.jsonl')) : undefined;
  const fillsCsv = outDir ? new FillsCsvWriter(join(outDir, 'fills.csv')) : undefined;

  const tracker = new PerformanceTracker({ initialCash: options.cash });
  const fills: Fill[] = [];
  const keepFills = hooks.keepFills ?? true;
  const breaches: RiskBreach[] = [];
  let quarantined = 0;
  const keepQuarantined = (entry: QuarantineEntry) => {
    quarantined++;
    quarantine?.add(entry);
  };

  const bus = new InProcessBus<Topics>();
  const costModel = new OnlineCostModel();
  const limits = RiskLimitsSchema.parse({ ...hooks.limits });

  const orderPlane = new OrderPlane(
    {
      accountId: options.accountId,
      initialCash: options.cash,
      limits,
      instrument: instrumentOf,
      costModel,
      broker: {
        fillModel: options.fillModel,
        makerFeeBps: options.makerFeeBps,
        takerFeeBps: options.takerFeeBps,
        latencyUs: options.latencyUs,
        slippage: options.slippage,
      },
    },
    {
      execution: (report) => bus.publish('execution', report),
      breach: (breach) => breaches.push(breach),
    },
  );

  const strategy = createStrategy(options.strategy, options.params);
  const strategyPlane = new StrategyPlane(
    {
      accountId: options.accountId,
      strategies: [strategy],
      sizing: sizingConfig(options),
      instrument: instrumentOf,
      costModel: options.costAware ? costModel : undefined,
    },
    {
      signal: () => {},
      target: () => {},
      intent: (intent) => bus.publish('intent', intent),
    },
  );

  const dataPlane = new DataPlane({}, { market: (event) => bus.publish('market', event), quarantine: keepQuarantined });

  let bars = 0;
  // One handler per topic, calling the planes in order: direct calls the JIT can inline, where one
  // subscription per plane would make the bus's dispatch site megamorphic.
  bus.subscribe('market', (event) => {
    orderPlane.onMarket(event);
    strategyPlane.onMarket(event);
    if (event.kind === 'bar') {
      bars++;
      tracker.onMark(event.ts, orderPlane.equity(), orderPlane.grossExposure(), event.close);
    } else if (event.kind === 'quote') {
      tracker.onMark(event.ts, orderPlane.equity(), orderPlane.grossExposure(), (event.bid + event.ask) / 2);
    }
  });
  bus.subscribe('intent', (intent) => orderPlane.onIntent(intent));
  bus.subscribe('execution', (report) => {
    strategyPlane.onExecution(report);
    if (report.fill) {
      if (keepFills) fills.push(report.fill);
      tracker.onFill(report.fill, instrument.multiplier);
      fillsCsv?.add(report.fill);
    }
  });

  let events = 0;
  let engineMs = 0;
  let reported = -1;
  for await (const batch of source.batches()) {
    const started = performance.now();
    for (const entry of batch.rejected) dataPlane.quarantine(entry);
    const batchEvents = batch.events;
    const lines = batch.lines;
    for (let i = 0; i < batchEvents.length; i++) dataPlane.process(batchEvents[i], source.path, lines[i]);
    events += batchEvents.length;
    engineMs += performance.now() - started;
    // Batches are small and reads large: most batches would report the same progress again.
    if (batch.bytesRead !== reported) {
      reported = batch.bytesRead;
      hooks.onProgress?.(reported, source.totalBytes);
    }
  }
  dataPlane.flush();

  quarantine?.close();
  fillsCsv?.close();

  const finalPortfolio = orderPlane.portfolio();
  const report: BacktestReport = {
    generatedAt: new Date().toISOString(),
    strategy: { name: options.strategy, params: { ...options.params, ...strategy.params } },
    data: { path: options.dataPath, symbol: source.symbol, kind: source.kind, events, rejected: quarantined },
    config: {
      cash: options.cash,
      sizing: options.sizing,
      quantity: options.quantity,
      notional: options.notional,
      fillModel: options.fillModel,
      makerFeeBps: options.makerFeeBps,
      takerFeeBps: options.takerFeeBps,
      latencyUs: options.latencyUs,
      slippage: options.slippage,
      costAware: options.costAware,
      instrument,
    },
    statistics: tracker.finalize(),
    costModel: costModel.summary(),
    quality: dataPlane.counts(),
    risk: {
      breaches: breaches.length,
      byRule: countBy(breaches, (b) => b.rule),
      finalState: orderPlane.tradingState(),
    },
    engine: { events, bars, seconds: engineMs / 1000 },
  };
  if (outDir) writeReport(outDir, report, tracker, 'streamed');
  return { options, report, fills, breaches, finalPortfolio, outDir };
}

function makeInstrument(symbol: string, options: BacktestOptions): Instrument {
  const d = DEFAULTS.instrument;
  return InstrumentSchema.parse({
    symbol,
    venue: d.venue,
    tickSize: options.tickSize ?? d.tickSize,
    lotSize: options.lotSize ?? d.lotSize,
    multiplier: d.multiplier,
    quoteCurrency: d.quoteCurrency,
  });
}

function sizingConfig(options: BacktestOptions): SizingConfig {
  switch (options.sizing) {
    case 'fixed-qty':
      return { kind: 'fixed-qty', qty: options.quantity };
    case 'fixed-notional':
      return { kind: 'fixed-notional', notional: options.notional };
    case 'vol-target':
      return { kind: 'vol-target', annualVol: options.targetVol, equity: options.cash };
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
