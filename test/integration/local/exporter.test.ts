/**
 * The local exporter on a real nats-server: trading metrics follow what is published on the bus,
 * a fill is joined to its tick by trace id, and NATS monitoring data becomes Prometheus metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, applyNats, loadNatsConfig, subjects } from '../../../shared/bus/index.ts';
import { makeEnvelope } from '../../../shared/domain/envelope.ts';
import type { ExecutionReport, PortfolioSnapshot } from '../../../shared/domain/index.ts';
import { freePort, requireBinary, startServer, waitForPort, type RunningServer } from '../../../local/launch.ts';
import { startExporter, type RunningExporter } from '../../../local/run/exporter.ts';

let nats: RunningServer;
let monitorPort: number;
let bus: NatsBus;
let exporter: RunningExporter;

beforeAll(async () => {
  const bin = requireBinary('nats-server', 'apt-get install -y nats-server');
  monitorPort = await freePort();
  nats = await startServer({ name: 'nats', command: bin, args: (p, dir) => ['-js', '-a', '127.0.0.1', '-p', String(p), '-m', String(monitorPort), '-sd', dir] });
  await waitForPort(monitorPort);
  bus = await NatsBus.connect({ url: `nats://127.0.0.1:${nats.port}`, name: 'exporter-test' });
  await applyNats(bus.jsm, loadNatsConfig('local/nats'));
  exporter = await startExporter({ natsUrl: `nats://127.0.0.1:${nats.port}`, natsMonitorUrl: `http://127.0.0.1:${monitorPort}`, port: 0 });
}, 60_000);

afterAll(async () => {
  await exporter?.stop();
  await bus?.close();
  await nats?.stop();
});

const scrape = async () => (await fetch(`http://127.0.0.1:${exporter.port}/metrics`)).text();
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${await scrape()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('local exporter', () => {
  it('counts fills and reports, sets PnL, exposure and trading state, and joins intent and fill to their tick by trace id', async () => {
    const traceId = 'trace-tick-1';
    const tick = { kind: 'bar', symbol: 'BTC-PERP', ts: 1_640_995_200_000_000, intervalUs: 60_000_000, open: 100, high: 101, low: 99, close: 100.5, volume: 3 };
    await bus.publish(subjects.rawIngest('BTC-PERP'), makeEnvelope('market.bar.v1', tick, { producer: 'test', traceId }), { msgId: 'raw-1' });
    const order = { clientOrderId: 'abcdefgh-0001', accountId: 'paper-1', strategyId: 'sma-cross', symbol: 'BTC-PERP', side: 'buy', qty: 2, type: 'market', status: 'filled', filledQty: 2, avgFillPrice: 101, decisionPrice: 100.5, createdTs: tick.ts, updatedTs: tick.ts + 60_000_000 } as const;
    const fill = { execId: 'x-1', clientOrderId: order.clientOrderId, accountId: 'paper-1', strategyId: 'sma-cross', symbol: 'BTC-PERP', side: 'buy', qty: 2, price: 101, fee: 0.1, liquidity: 'taker', ts: order.updatedTs, arrivalPrice: 100.5 } as const;
    const intent = { clientOrderId: order.clientOrderId, accountId: 'paper-1', strategyId: 'sma-cross', symbol: 'BTC-PERP', ts: tick.ts, side: 'buy', qty: 2, type: 'market', decisionPrice: 100.5 };
    await bus.publish(subjects.intents('BTC-PERP'), makeEnvelope('orders.intent.v1', intent, { producer: 'test', traceId }), { msgId: 'int-1' });
    const report: ExecutionReport = { order, fill };
    await bus.publish(subjects.executions('BTC-PERP'), makeEnvelope('exec.report.v1', report, { producer: 'test', traceId }), { msgId: 'rep-1' });
    await bus.publish(subjects.executions('BTC-PERP'), makeEnvelope('exec.report.v1', { order: { ...order, status: 'accepted', filledQty: 0, avgFillPrice: 0 } }, { producer: 'test', traceId: 'unrelated' }), { msgId: 'rep-0' });
    const snap: PortfolioSnapshot = { accountId: 'paper-1', ts: order.updatedTs, cash: 99_797.9, equity: 100_001.9, grossExposure: 204, netExposure: 204, realizedPnl: -0.1, unrealizedPnl: 2, fees: 0.1, dailyPnl: 1.9, tradingState: 'HALTED', positions: [] };
    await bus.publish(subjects.portfolio('paper-1'), makeEnvelope('exec.portfolio.v1', snap, { producer: 'test' }), { msgId: 'pf-1' });

    await until(async () => sample(await scrape(), 'algoplanes_exposure{account="paper-1",kind="gross"}') === 204, 'portfolio snapshot');
    const text = await scrape();
    expect(sample(text, 'algoplanes_fills_total{symbol="BTC-PERP",side="buy"}')).toBe(1);
    expect(sample(text, 'algoplanes_filled_notional_total{symbol="BTC-PERP"}')).toBe(202);
    expect(sample(text, 'algoplanes_order_reports_total{status="filled"}')).toBe(1);
    expect(sample(text, 'algoplanes_order_reports_total{status="accepted"}')).toBe(1);
    expect(sample(text, 'algoplanes_pnl{account="paper-1",kind="realized"}')).toBe(-0.1);
    expect(sample(text, 'algoplanes_pnl{account="paper-1",kind="daily"}')).toBe(1.9);
    expect(sample(text, 'algoplanes_exposure{account="paper-1",kind="net"}')).toBe(204);
    expect(sample(text, 'algoplanes_trading_state{account="paper-1",state="HALTED"}')).toBe(1);
    expect(sample(text, 'algoplanes_trading_state{account="paper-1",state="ACTIVE"}')).toBe(0);
    expect(sample(text, 'algoplanes_trace_joins_total{stage="fill",joined="true"}')).toBe(1);
    expect(sample(text, 'algoplanes_trace_joins_total{stage="report",joined="false"}')).toBe(1);
    expect(sample(text, 'algoplanes_tick_to_stage_seconds_count{stage="fill"}')).toBe(1);
    expect(sample(text, 'algoplanes_trace_joins_total{stage="intent",joined="true"}')).toBe(1);
    expect(sample(text, 'algoplanes_trace_follows_intent_total{stage="fill",follows="true"}')).toBe(1);
    expect(sample(text, 'algoplanes_trace_follows_intent_total{stage="report",follows="false"}')).toBe(1);
  });

  it('counts dead letters by origin, risk breaches and quality flags, and keeps an unreadable message as a count', async () => {
    await bus.publish(subjects.dlq('md.raw.BTC-PERP'), makeEnvelope('sys.dead-letter.v1', { any: 1 }, { producer: 'test' }), { msgId: 'dlq-1' });
    await bus.publish(subjects.notifications('risk'), makeEnvelope('risk.breach.v1', { ts: 1, accountId: 'paper-1', rule: 'MAX_DAILY_LOSS', message: 'loss', action: 'halt' }, { producer: 'test' }), { msgId: 'rb-1' });
    await bus.publish(subjects.notifications('data-quality'), makeEnvelope('data.quality.v1', { reason: 'STALE_FEED', where: 'md.raw.X#9', message: 'silent', rejected: false }, { producer: 'test' }), { msgId: 'q-1' });
    await bus.publish(subjects.executions('BTC-PERP'), makeEnvelope('exec.report.v1', { order: { status: 'nonsense' } }, { producer: 'test' }), { msgId: 'bad-1' });
    await until(async () => sample(await scrape(), 'algoplanes_exporter_undecodable_total{family="exec.reports"}') === 1, 'undecodable count');
    const text = await scrape();
    expect(sample(text, 'algoplanes_dlq_messages_total{origin="md_2Eraw"}')).toBe(1);
    expect(text).toMatch(/^algoplanes_risk_breaches_total\{rule="[A-Z_]+",action="halt"\} 1$/m);
    expect(sample(text, 'algoplanes_quality_flags_total{reason="STALE_FEED"}')).toBe(1);
  });

  it('translates the NATS monitoring endpoint: connections, streams and durable consumers', async () => {
    const text = await scrape();
    expect(sample(text, 'algoplanes_nats_up')).toBe(1);
    expect(sample(text, 'algoplanes_nats_connections')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'algoplanes_nats_stream_messages{stream="EXECUTIONS"}')).toBe(4);
    // The one intent published above waits in the work queue: no order worker runs here.
    expect(sample(text, 'algoplanes_nats_consumer_pending{stream="ORDERS",consumer="order-worker"}')).toBe(1);
    // Three reports are waiting for the strategy worker (its filter leaves out the portfolio subject).
    expect(sample(text, 'algoplanes_nats_consumer_pending{stream="EXECUTIONS",consumer="strategy-worker"}')).toBe(3);
  });
});
