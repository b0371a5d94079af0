/**
 * What every worker process shares: JSON logs with trace ids, Prometheus metrics, /healthz and
 * /metrics over HTTP, and a graceful SIGTERM (stop fetching, finish and ack in-flight work, close).
 */
import type { Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricType } from 'prom-client';
import type { HealthStatus } from '../domain/system.ts';
import { serveHealthAndMetrics } from './http.ts';
import { errorMessage } from '../util/errors.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** Hot paths check this before building a line's fields. */
  enabled(level: LogLevel): boolean;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(service: string, write: (line: string) => void = (l) => process.stdout.write(l + '\n'), minLevel: LogLevel = 'info'): Logger {
  const min = LEVEL_RANK[minLevel];
  return {
    enabled: (level) => LEVEL_RANK[level] >= min,
    log(level, msg, fields = {}) {
      if (LEVEL_RANK[level] < min) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, service, msg, ...fields }));
    },
  };
}

export interface HealthCheck {
  name: string;
  check(): { status: HealthStatus; detail?: string };
}

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter<'subject'>;
  readonly messagesOut: Counter<'subject'>;
  readonly rejects: Counter<'reason'>;
  readonly stageLatency: StageLatency;
  readonly consumerLag: Gauge<'consumer'>;
  readonly retries: Counter<'where'>;
  /** Per-message counts, kept as plain numbers and handed to the counters when scraped (a prom-client label lookup per message cost more than the message's own bookkeeping). */
  private readonly inBySubject = new Map<string, SubjectCount>();
  private readonly outBySubject = new Map<string, SubjectCount>();

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.messagesIn = subjectCounter(this.registry, 'algoplanes_messages_in_total', 'Messages received, by subject family', this.inBySubject);
    this.messagesOut = subjectCounter(this.registry, 'algoplanes_messages_out_total', 'Messages published, by subject family', this.outBySubject);
    this.rejects = new Counter({ name: 'algoplanes_rejects_total', help: 'Rejected or dead-lettered messages, by reason', labelNames: ['reason'], registers: [this.registry] });
    this.stageLatency = new StageLatency(this.registry);
    this.consumerLag = new Gauge({ name: 'algoplanes_consumer_lag', help: 'Messages not yet delivered to a durable consumer', labelNames: ['consumer'], registers: [this.registry] });
    this.retries = new Counter({ name: 'algoplanes_retries_total', help: 'Retried operations (retriable errors only)', labelNames: ['where'], registers: [this.registry] });
  }

  /** Per-message count: one map lookup and an addition (the hot path neither splits nor hashes labels). */
  countBySubject(direction: 'in' | 'out', subject: string): void {
    const counts = direction === 'in' ? this.inBySubject : this.outBySubject;
    const c = counts.get(subject);
    if (c) {
      c.n++;
      return;
    }
    // Subjects are per symbol: bounded by the instruments traded, yet capped so a flood of symbols cannot grow it.
    if (counts.size < 10_000) counts.set(subject, { family: familyLabel(subject), n: 1 });
    else (direction === 'in' ? this.messagesIn : this.messagesOut).inc({ subject: familyLabel(subject) });
  }
}

interface SubjectCount {
  readonly family: string;
  n: number;
}

/** A per-subject-family counter fed from plain counts when scraped. */
function subjectCounter(registry: Registry, name: string, help: string, counts: Map<string, SubjectCount>): Counter<'subject'> {
  return new Counter({
    name,
    help,
    labelNames: ['subject'],
    registers: [registry],
    collect() {
      for (const c of counts.values()) {
        if (c.n === 0) continue;
        this.inc({ subject: c.family }, c.n);
        c.n = 0;
      }
    },
  });
}

/** One stage's observations as plain bucket counts (upper bounds as in STAGE_BUCKETS). */
export class StageTimer {
  readonly counts = new Float64Array(STAGE_BUCKETS.length);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < STAGE_BUCKETS.length && seconds > STAGE_BUCKETS[i]) i++;
    if (i < STAGE_BUCKETS.length) this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

const STAGE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2];
const STAGE_METRIC = 'algoplanes_stage_latency_seconds';
const STAGE_HELP = 'Latency per processing stage';

/**
 * algoplanes_stage_latency_seconds, observed once per applied envelope through a StageTimer per
 * stage: prom-client's own observe validates and hashes the labels every time. The exposition is
 * prom-client's (bucket, +Inf, sum and count per stage).
 */
export class StageLatency extends Histogram<'stage'> {
  private readonly stages = new Map<string, StageTimer>();

  constructor(registry: Registry) {
    super({ name: STAGE_METRIC, help: STAGE_HELP, labelNames: ['stage'], buckets: STAGE_BUCKETS, registers: [registry] });
  }

  stage(stage: string): StageTimer {
    let t = this.stages.get(stage);
    if (!t) this.stages.set(stage, (t = new StageTimer()));
    return t;
  }

  /** What the registry formats (prom-client's histograms expose this, not get(), to it): the stage as a shared label, as prom-client orders it. */
  async getForPromString(): Promise<Awaited<ReturnType<Histogram<'stage'>['get']>>> {
    const values: { value: number; labels: Record<string, string | number>; sharedLabels: { stage: string }; metricName: string }[] = [];
    for (const [stage, t] of this.stages) {
      const sharedLabels = { stage };
      let cumulative = 0;
      STAGE_BUCKETS.forEach((le, i) => {
        cumulative += t.counts[i];
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: `${STAGE_METRIC}_bucket` });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: t.count, metricName: `${STAGE_METRIC}_bucket` });
      values.push({ labels: {}, sharedLabels, value: t.sum, metricName: `${STAGE_METRIC}_sum` });
      values.push({ labels: {}, sharedLabels, value: t.count, metricName: `${STAGE_METRIC}_count` });
    }
    // prom-client's typings declare MetricType a numeric enum; at run time (and in the exposition) it is the string.
    return { name: STAGE_METRIC, help: STAGE_HELP, type: 'histogram' as unknown as MetricType, aggregator: 'sum', collect: () => undefined, values };
  }

  override async get(): ReturnType<Histogram<'stage'>['get']> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map((v) => ({ ...v, labels: { ...v.labels, ...(v as { sharedLabels?: object }).sharedLabels } })) };
  }
}

/** Subject family for metric labels: bounded cardinality (no per-symbol series). */
export function familyLabel(subject: string): string {
  const parts = subject.split('.');
  return parts.slice(0, 2).join('.');
}

export class WorkerRuntime {
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  private readonly checks: HealthCheck[] = [];
  private server: Server | undefined;
  private readonly stoppers: (() => Promise<void>)[] = [];
  private stopping: Promise<void> | undefined;

  constructor(readonly service: string, logger?: Logger) {
    this.metrics = new WorkerMetrics(service);
    this.logger = logger ?? jsonLogger(service);
  }

  addCheck(c: HealthCheck): void {
    this.checks.push(c);
  }

  health(): { service: string; status: HealthStatus; checks: { name: string; status: HealthStatus; detail: string }[] } {
    const checks = this.checks.map((c) => {
      const r = c.check();
      return { name: c.name, status: r.status, detail: r.detail ?? '' };
    });
    const status: HealthStatus = checks.some((c) => c.status === 'down') ? 'down' : checks.some((c) => c.status === 'degraded') ? 'degraded' : 'ok';
    return { service: this.service, status, checks };
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const { server, port: bound } = await serveHealthAndMetrics({ port, host, health: () => this.health(), registry: this.metrics.registry });
    this.server = server;
    this.logger.log('info', 'http listening', { host, port: bound, endpoints: ['/healthz', '/metrics'] });
    return bound;
  }

  /** Registered in order; run in reverse on shutdown (consumers first, connections last). */
  onStop(fn: () => Promise<void>): void {
    this.stoppers.push(fn);
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.log('info', 'draining', { reason });
      for (const fn of [...this.stoppers].reverse()) {
        try {
          await fn();
        } catch (err) {
          this.logger.log('error', 'shutdown step failed', { error: errorMessage(err) });
        }
      }
      await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
      this.logger.log('info', 'stopped', { reason });
    })();
    return this.stopping;
  }

  /** SIGTERM/SIGINT drain and exit 0; a second signal exits at once. */
  installSignalHandlers(): void {
    let signalled = false;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.on(sig, () => {
        if (signalled) process.exit(1);
        signalled = true;
        void this.stop(sig).then(() => process.exit(0));
      });
    }
  }
}
