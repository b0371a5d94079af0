/**
 * Local metrics exporter. The workers export transport metrics (messages, rejects, stage latency,
 * lag); the trading view (PnL, exposure, fills, risk state, DLQ) and the tick-to-trade path are
 * read off the bus here, with plain NATS subscriptions that see every JetStream publish without
 * taking part in delivery. It also translates nats-server's JSON monitoring endpoint (/varz, /jsz)
 * into Prometheus metrics. /metrics and /healthz over HTTP.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FAMILIES, decodeEnvelopes } from '../../shared/bus/index.ts';
import { ExecutionReportSchema, OrderIntentSchema, PortfolioSnapshotSchema, RiskBreachSchema, TradingState } from '../../shared/domain/index.ts';
import { QuarantineEntrySchema } from '../../shared/domain/system.ts';
import { errorMessage } from '../../shared/util/errors.ts';
import { serveHealthAndMetrics } from '../../shared/workers/http.ts';

/** Trace ids remembered for joining a fill back to its tick; oldest evicted first. */
const MAX_TRACKED_TRACES = 100_000;

export class ExporterMetrics {
  readonly registry = new Registry();
  readonly fills = new Counter({ name: 'algoplanes_fills_total', help: 'Fills seen in execution reports', labelNames: ['symbol', 'side'], registers: [this.registry] });
  readonly filledNotional = new Counter({ name: 'algoplanes_filled_notional_total', help: 'Traded notional of fills (price x qty)', labelNames: ['symbol'], registers: [this.registry] });
  readonly reports = new Counter({ name: 'algoplanes_order_reports_total', help: 'Execution reports by order status', labelNames: ['status'], registers: [this.registry] });
  readonly intents = new Counter({ name: 'algoplanes_intents_total', help: 'Order intents published by the strategy plane', registers: [this.registry] });
  readonly pnl = new Gauge({ name: 'algoplanes_pnl', help: 'PnL of the last portfolio snapshot', labelNames: ['account', 'kind'], registers: [this.registry] });
  readonly equity = new Gauge({ name: 'algoplanes_equity', help: 'Equity of the last portfolio snapshot', labelNames: ['account'], registers: [this.registry] });
  readonly exposure = new Gauge({ name: 'algoplanes_exposure', help: 'Gross and net exposure of the last portfolio snapshot', labelNames: ['account', 'kind'], registers: [this.registry] });
  readonly tradingState = new Gauge({ name: 'algoplanes_trading_state', help: '1 for the account\'s current trading state (ACTIVE, REDUCING, HALTED)', labelNames: ['account', 'state'], registers: [this.registry] });
  readonly breaches = new Counter({ name: 'algoplanes_risk_breaches_total', help: 'Pre-trade risk breaches', labelNames: ['rule', 'action'], registers: [this.registry] });
  readonly dlq = new Counter({ name: 'algoplanes_dlq_messages_total', help: 'Dead letters published, by origin family', labelNames: ['origin'], registers: [this.registry] });
  readonly qualityFlags = new Counter({ name: 'algoplanes_quality_flags_total', help: 'Data-quality flags (events passed on with a flag)', labelNames: ['reason'], registers: [this.registry] });
  readonly undecodable = new Counter({ name: 'algoplanes_exporter_undecodable_total', help: 'Bus messages the exporter could not read', labelNames: ['family'], registers: [this.registry] });
  readonly traceJoins = new Counter({
    name: 'algoplanes_trace_joins_total',
    help: 'Outputs whose envelope trace_id matched a raw tick seen on md.raw (joined=true) or not',
    labelNames: ['stage', 'joined'],
    registers: [this.registry],
  });
  readonly followsIntent = new Counter({
    name: 'algoplanes_trace_follows_intent_total',
    help: 'Execution reports whose trace_id is that of their order intent (follows=true) or another one',
    labelNames: ['stage', 'follows'],
    registers: [this.registry],
  });
  readonly tickTo = new Histogram({
    name: 'algoplanes_tick_to_stage_seconds',
    help: 'Wall time from a raw tick envelope to a downstream envelope with the same trace_id',
    labelNames: ['stage'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly natsUp = new Gauge({ name: 'algoplanes_nats_up', help: '1 when the NATS monitoring endpoint answered the last scrape', registers: [this.registry] });
  readonly natsConnections = new Gauge({ name: 'algoplanes_nats_connections', help: 'Client connections (varz)', registers: [this.registry] });
  readonly natsInMsgs = new Gauge({ name: 'algoplanes_nats_in_msgs', help: 'Messages received by the server since start (varz, monotonic)', registers: [this.registry] });
  readonly natsOutMsgs = new Gauge({ name: 'algoplanes_nats_out_msgs', help: 'Messages sent by the server since start (varz, monotonic)', registers: [this.registry] });
  readonly natsStreamMessages = new Gauge({ name: 'algoplanes_nats_stream_messages', help: 'Messages stored per JetStream stream (jsz)', labelNames: ['stream'], registers: [this.registry] });
  readonly natsStreamBytes = new Gauge({ name: 'algoplanes_nats_stream_bytes', help: 'Bytes stored per JetStream stream (jsz)', labelNames: ['stream'], registers: [this.registry] });
  readonly natsConsumerPending = new Gauge({ name: 'algoplanes_nats_consumer_pending', help: 'Messages not yet delivered per durable (jsz)', labelNames: ['stream', 'consumer'], registers: [this.registry] });
  readonly natsConsumerAckPending = new Gauge({ name: 'algoplanes_nats_consumer_ack_pending', help: 'Delivered but unacked messages per durable (jsz)', labelNames: ['stream', 'consumer'], registers: [this.registry] });
  readonly natsConsumerRedelivered = new Gauge({ name: 'algoplanes_nats_consumer_redelivered', help: 'Redelivered messages per durable (jsz)', labelNames: ['stream', 'consumer'], registers: [this.registry] });
}

interface JszConsumer {
  name: string;
  num_pending?: number;
  num_ack_pending?: number;
  num_redelivered?: number;
}
interface JszStream {
  name: string;
  state?: { messages?: number; bytes?: number };
  consumer_detail?: JszConsumer[];
}
interface Jsz {
  account_details?: { stream_detail?: JszStream[] }[];
}

async function fetchJson<T>(url: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export interface ExporterOptions {
  natsUrl: string;
  /** nats-server's monitoring base URL (http://host:8222); omitted = no server metrics. */
  natsMonitorUrl?: string;
  port: number;
  host?: string;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface RunningExporter {
  readonly port: number;
  readonly metrics: ExporterMetrics;
  stop(): Promise<void>;
}

/** Parses ISO envelope timestamps into epoch ms; envelopes carry millisecond resolution. */
const envelopeMs = (iso: string) => Date.parse(iso);

export async function startExporter(opts: ExporterOptions): Promise<RunningExporter> {
  const m = new ExporterMetrics();
  const log = opts.log ?? (() => undefined);
  const tickTimes = new Map<string, number>();
  const intentTraces = new Map<string, string>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.set(key, value);
    if (map.size > MAX_TRACKED_TRACES) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  };
  const nc: NatsConnection = await connect({ servers: opts.natsUrl, name: 'algoplanes-exporter', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const subs: Subscription[] = [];

  const on = (family: string, handle: (subject: string, data: unknown, traceId: string, ts: number) => void) => {
    subs.push(
      nc.subscribe(`${family}.>`, {
        callback: (err, msg) => {
          if (err) return;
          // Hot-path subjects carry packs of envelopes (shared/bus/pack.ts); each counts on its own.
          for (const element of decodeEnvelopes(msg.data, msg.subject)) {
            try {
              if (element.error) throw element.error;
              const env = element.envelope;
              handle(msg.subject, env.data, env.trace_id, envelopeMs(env.timestamp));
            } catch (e) {
              m.undecodable.inc({ family });
              log('exporter: undecodable message', { subject: msg.subject, error: errorMessage(e) });
            }
          }
        },
      }),
    );
  };

  const joinTrace = (stage: string, traceId: string, ts: number) => {
    const t0 = tickTimes.get(traceId);
    m.traceJoins.inc({ stage, joined: t0 === undefined ? 'false' : 'true' });
    if (t0 !== undefined) m.tickTo.observe({ stage }, Math.max(0, ts - t0) / 1_000);
  };

  on(FAMILIES.rawIngest, (_s, _d, traceId, ts) => remember(tickTimes, traceId, ts));
  on(FAMILIES.intents, (_s, data, traceId, ts) => {
    m.intents.inc();
    joinTrace('intent', traceId, ts);
    remember(intentTraces, OrderIntentSchema.parse(data).clientOrderId, traceId);
  });
  on(FAMILIES.executions, (_s, data, traceId, ts) => {
    const r = ExecutionReportSchema.parse(data);
    m.reports.inc({ status: r.order.status });
    const stage = r.fill ? 'fill' : 'report';
    joinTrace(stage, traceId, ts);
    const intentTrace = intentTraces.get(r.order.clientOrderId);
    if (intentTrace !== undefined) m.followsIntent.inc({ stage, follows: String(intentTrace === traceId) });
    if (r.fill) {
      m.fills.inc({ symbol: r.fill.symbol, side: r.fill.side });
      m.filledNotional.inc({ symbol: r.fill.symbol }, r.fill.price * r.fill.qty);
    }
  });
  on(FAMILIES.portfolio, (_s, data) => {
    const p = PortfolioSnapshotSchema.parse(data);
    const account = p.accountId;
    m.pnl.set({ account, kind: 'realized' }, p.realizedPnl);
    m.pnl.set({ account, kind: 'unrealized' }, p.unrealizedPnl);
    m.pnl.set({ account, kind: 'daily' }, p.dailyPnl);
    m.equity.set({ account }, p.equity);
    m.exposure.set({ account, kind: 'gross' }, p.grossExposure);
    m.exposure.set({ account, kind: 'net' }, p.netExposure);
    for (const state of TradingState.options) m.tradingState.set({ account, state }, state === p.tradingState ? 1 : 0);
  });
  on(FAMILIES.notifications, (subject, data) => {
    if (subject.endsWith('.risk')) {
      const b = RiskBreachSchema.parse(data);
      m.breaches.inc({ rule: b.rule, action: b.action });
    } else if (subject.endsWith('.data-quality')) {
      m.qualityFlags.inc({ reason: QuarantineEntrySchema.parse(data).reason });
    }
  });
  on(FAMILIES.dlq, (subject) => m.dlq.inc({ origin: subject.slice(FAMILIES.dlq.length + 1) }));

  const scrapeNats = async () => {
    if (!opts.natsMonitorUrl) return;
    try {
      const [varz, jsz] = await Promise.all([
        fetchJson<{ connections: number; in_msgs: number; out_msgs: number }>(`${opts.natsMonitorUrl}/varz`, 2_000),
        fetchJson<Jsz>(`${opts.natsMonitorUrl}/jsz?accounts=true&streams=true&consumers=true`, 2_000),
      ]);
      m.natsUp.set(1);
      m.natsConnections.set(varz.connections);
      m.natsInMsgs.set(varz.in_msgs);
      m.natsOutMsgs.set(varz.out_msgs);
      for (const stream of (jsz.account_details ?? []).flatMap((a) => a.stream_detail ?? [])) {
        m.natsStreamMessages.set({ stream: stream.name }, stream.state?.messages ?? 0);
        m.natsStreamBytes.set({ stream: stream.name }, stream.state?.bytes ?? 0);
        for (const c of stream.consumer_detail ?? []) {
          const labels = { stream: stream.name, consumer: c.name };
          m.natsConsumerPending.set(labels, c.num_pending ?? 0);
          m.natsConsumerAckPending.set(labels, c.num_ack_pending ?? 0);
          m.natsConsumerRedelivered.set(labels, c.num_redelivered ?? 0);
        }
      }
    } catch (err) {
      m.natsUp.set(0);
      log('exporter: nats monitoring endpoint unavailable', { error: errorMessage(err) });
    }
  };

  const { server, port } = await serveHealthAndMetrics({
    port: opts.port,
    host: opts.host,
    health: () => {
      const up = !nc.isClosed();
      return { service: 'exporter', status: up ? 'ok' : 'down', checks: [{ name: 'nats', status: up ? 'ok' : 'down', detail: '' }] };
    },
    registry: m.registry,
    beforeScrape: scrapeNats,
  });
  return {
    port,
    metrics: m,
    async stop() {
      for (const s of subs) s.unsubscribe();
      await nc.drain().catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
