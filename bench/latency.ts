/**
 * Tick-to-fill latency across the three planes over loopback NATS, next to its transport floor
 * (floor.ts): a private nats-server and redis-server, the data, strategy and order workers as separate processes, synthetic one-second
 * bars published onto md.raw (packed, as the replay and feed publish them). tick-to-fill = fill
 * report received - publish time of the bar the fill executed on (fill.ts names it; the publish time
 * is taken when the bar is handed to the bus, so the wait for its batch counts); a fill whose intent
 * arrived after that bar includes the wait for the intent. The fill report carries its intent's
 * trace id, i.e. the decision bar's, so decision-to-fill (which adds the wait for the next bar under
 * next-bar-open fills) is reported too. Each latency phase first runs a warm-up at its own rate,
 * whose ticks are not measured (the JIT and the heaps settle after a change of rate). A phase of its
 * own also taps the canonical events and intents to time tick -> event and tick -> intent; the other
 * phases leave those taps out, as they load the shared cores.
 * Each phase also reports the CPU milliseconds every process spent per 1,000 ticks (from /proc),
 * which on a shared machine says more about capacity than wall-clock latency does, and the CPU time
 * the hypervisor gave to other guests meanwhile; a phase or probe that lost too much of it is
 * measured again (harness.ts leastDisturbed).
 *
 * Sustained rate: the highest rate at which the pipeline keeps up. A probe publishes at a fixed rate
 * for PROBE_SECONDS, then times how long every durable of the pipeline (raw, both market fan-outs,
 * intents, execution reports) takes to have nothing pending or unacked. A pipeline that keeps up
 * only has its last checkpoint's acks outstanding; one that falls behind has built a backlog of
 * (rate - capacity) x PROBE_SECONDS ticks. The probe passes when that drain takes at most
 * KEEPS_UP_DRAIN_MS and no order was cancelled as too late for the paper broker's market history
 * (which is what a strategy falling behind looks like). Rates double from 2,000 ticks/s until a
 * probe fails, then a bisection narrows the gap to a tenth; the highest passing rate is reported, and
 * the target rate (TARGET_SUSTAINED) is probed on its own when the search did not land on it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { NatsBus, applyNats, loadNatsConfig, subjects, decodeEnvelopes, encodeEnvelope, type PublishItem } from '../shared/bus/index.ts';
import { makeEnvelope, type Envelope } from '../shared/domain/envelope.ts';
import { syntheticBars } from '../shared/workers/replay.ts';
import { workerNodeArgs } from '../shared/workers/spawn.ts';
import { US_PER_SECOND } from '../shared/domain/time.ts';
import { startNatsServer } from '../test/helpers/nats-server.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { measureTransportFloor, type FloorPhase } from './floor.ts';
import { cpuSeconds, leastDisturbed, newHistogram, now, pace, percentilesMs, perKTicks, recordMs, serverPid, spawnReady, stealWatch, stopAll, writeCalls } from './harness.ts';

const SYMBOL = 'BENCH-USD';
const PROBE_SECONDS = 5;
/** A checkpoint interval (acks wait for it) plus the pipeline's depth, with room for a scheduling hiccup. */
const KEEPS_UP_DRAIN_MS = 1_000;
const AT_1K = { rate: 1_000, seconds: 10, warmupSeconds: 1 };
const AT_10K = { rate: 10_000, seconds: 10, warmupSeconds: 2 };
/**
 * The 10k phase held for a minute: a 10 s phase ends before the workers reach their steady state
 * (the order plane's dedup window fills after about 7 s, and full collections come every few
 * seconds), and over 110 s p99 and p99.9 came out well above a 10 s run's.
 */
const AT_10K_STEADY = { rate: 10_000, seconds: 60, warmupSeconds: 2 };
/** The same phases through the relays of floor.ts instead of the pipeline. */
const FLOOR_PHASES: readonly FloorPhase[] = [
  { name: 'at1k', ...AT_1K },
  { name: 'at10k', ...AT_10K },
];
/** CPU per tick each floor relay burns in the floorWithWork runs (BENCH_FLOOR_SPIN_US, comma-separated). */
const FLOOR_SPIN_US = (process.env.BENCH_FLOOR_SPIN_US ?? '15,30').split(',').map(Number).filter((us) => us > 0);
/** The sustained-rate target: probed on its own when the search does not land on it. */
const TARGET_SUSTAINED = 50_000;

/** One sustained-rate probe as latest.json records it (`disturbed`: the probes at that rate the hypervisor disturbed, see harness.ts leastDisturbed). */
export interface SustainedProbe {
  readonly ticksPerSecond: number;
  readonly drainMs: number;
  readonly cancelled: number;
  readonly keepsUp: boolean;
  readonly stolenMsPerSecond: number;
  readonly disturbed?: readonly Pick<SustainedProbe, 'drainMs' | 'stolenMsPerSecond'>[];
}

interface Phase {
  readonly rate: number;
  /** Measured seconds, after `warmupSeconds` at the same rate whose ticks count for nothing (JIT and heap settle at the new rate). */
  readonly seconds: number;
  readonly warmupSeconds?: number;
  /** Also time tick -> canonical event and tick -> intent: every market event and intent is then delivered to this process too. */
  readonly stageTaps?: boolean;
}

const TRACE_PREFIX = 'tick-';

function p50p99(h: Parameters<typeof percentilesMs>[0]): { p50_ms: number; p99_ms: number } {
  const { p50_ms, p99_ms } = percentilesMs(h);
  return { p50_ms, p99_ms };
}

/**
 * When each tick of the current phase was handed to the bus, by tick number (its trace id is
 * `tick-N`, and consecutive synthetic bars are one second apart). Arrays, not maps keyed by
 * strings: this process shares the cores with the pipeline it measures.
 */
class SendTimes {
  private times = new Float64Array(0);
  /** Per tap, the ticks already seen there: a checkpoint's confirming copy of a pack (see NatsBus.flush) reaches a core subscriber again. */
  private seen = { events: new Uint8Array(0), intents: new Uint8Array(0) };
  private firstSeq = 0;
  private firstBarTs = NaN;

  /** The next phase starts at tick `firstSeq`; earlier ticks can no longer be filled or decided on. */
  reset(firstSeq: number, ticks: number): void {
    this.times = new Float64Array(ticks).fill(NaN);
    this.seen = { events: new Uint8Array(ticks), intents: new Uint8Array(ticks) };
    this.firstSeq = firstSeq;
    this.firstBarTs = NaN;
  }

  /** Ticks before `firstSeq` (a warm-up) are not kept. */
  record(seq: number, barTs: number, t: number): void {
    if (seq === this.firstSeq) this.firstBarTs = barTs;
    const i = seq - this.firstSeq;
    if (i >= 0 && i < this.times.length) this.times[i] = t;
  }

  private at(i: number): number | undefined {
    const t = Number.isInteger(i) && i >= 0 && i < this.times.length ? this.times[i] : NaN;
    return Number.isNaN(t) ? undefined : t;
  }

  private index(trace: string): number {
    return trace.startsWith(TRACE_PREFIX) ? Number(trace.slice(TRACE_PREFIX.length)) - this.firstSeq : NaN;
  }

  byTrace(trace: string): number | undefined {
    return this.at(this.index(trace));
  }

  /** The tick's send time the first time `tap` sees it; undefined on a later copy. */
  firstAt(tap: 'events' | 'intents', trace: string): number | undefined {
    const i = this.index(trace);
    const t = this.at(i);
    if (t === undefined || this.seen[tap][i]) return undefined;
    this.seen[tap][i] = 1;
    return t;
  }

  byBarTs(ts: number): number | undefined {
    return this.at((ts - this.firstBarTs) / US_PER_SECOND);
  }
}

export async function runLatencyBench(): Promise<Record<string, unknown>> {
  const nats = await startNatsServer();
  const redis = await startRedisServer();
  const bus = await NatsBus.connect({ url: nats.url, name: 'bench' });
  const children: ChildProcess[] = [];
  try {
    await applyNats(bus.jsm, loadNatsConfig('local/nats'));
    // BENCH_LATENCY_PHASES, e.g. "10000:10,20000:5:1:taps" (rate:seconds[:warm-up seconds[:taps]]): only these phases, no floor, no probing (for profiling).
    const only = process.env.BENCH_LATENCY_PHASES;
    // Before the workers start, on the same nats-server: what the topology alone costs here.
    const transportFloor = only ? undefined : await measureTransportFloor(bus, nats.url, FLOOR_PHASES);
    // And at 10k with stand-in work in each relay: how the tail grows with CPU per tick (the workers use 18-35 ms per 1,000 ticks).
    const floorWithWork: Record<string, unknown> = {};
    for (const us of only ? [] : FLOOR_SPIN_US) floorWithWork[`spin${us}usPerTick`] = await measureTransportFloor(bus, nats.url, [{ name: 'at10k', ...AT_10K }], us);
    // Fast SMAs so the random walk crosses often and many ticks end in a fill.
    const env = { BUS: 'nats', NATS_URL: nats.url, REDIS_URL: redis.url, WORKER_PORT: '0', STRATEGY: 'sma-cross', STRATEGY_PARAMS: '{"fast":2,"slow":4}', ORDER_QTY: '1' };
    // BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the workers under load.
    const nodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    for (const kind of ['order', 'strategy', 'data'] as const) children.push(await spawnReady(workerNodeArgs(kind, nodeArgs), '"worker started"', env));

    const pids: Record<string, number | undefined> = { order: children[0].pid, strategy: children[1].pid, data: children[2].pid, nats: serverPid('nats-server', Number(new URL(nats.url).port)), redis: serverPid('redis-server', Number(new URL(redis.url).port)), bench: process.pid };
    const cpu = perKTicks(pids, cpuSeconds, 1_000);
    const writes = perKTicks(pids, writeCalls, 1);

    const sendTimes = new SendTimes();
    let histogram = newHistogram();
    let decision = newHistogram();
    let fills = 0;
    let cancelled = 0;
    // Each report once: at every checkpoint the order worker publishes its newest report pack again to
    // confirm it (NatsBus.flush); the stream drops that copy, but a core subscription like this one sees it.
    let reportsSeen = new Set<string>();
    const sub = bus.nc.subscribe('exec.reports.>', {
      callback: (_err, msg) => {
        const t = now();
        for (const { envelope } of decodeEnvelopes(msg.data, msg.subject)) {
          const r = envelope?.data as { order: { status: string }; fill?: { ts: number } } | undefined;
          if (!envelope || !r || reportsSeen.has(envelope.id)) continue;
          reportsSeen.add(envelope.id);
          if (r.order.status === 'cancelled') cancelled++;
          const t0 = r.fill && sendTimes.byBarTs(r.fill.ts);
          if (t0 === undefined) continue;
          fills++;
          recordMs(histogram, t - t0);
          const d0 = sendTimes.byTrace(envelope.trace_id);
          if (d0 !== undefined) recordMs(decision, t - d0);
        }
      },
    });

    // Where the time goes: tick -> canonical event out of the data worker, tick -> intent out of the strategy worker.
    // Only the trace ids are read (a regex over the text, no JSON.parse of every tick a second time):
    // this process shares the cores with the pipeline it measures.
    let stages = { events: newHistogram(), intents: newHistogram() };
    const textDecoder = new TextDecoder();
    const traceIds = /"trace_id":"([^"]+)"/g;
    const stageSub = (subject: string, tap: 'events' | 'intents') =>
      bus.nc.subscribe(subject, {
        callback: (_err, msg) => {
          const t = now();
          const h = stages[tap];
          for (const [, trace] of textDecoder.decode(msg.data).matchAll(traceIds)) {
            const t0 = sendTimes.firstAt(tap, trace);
            if (t0 !== undefined) recordMs(h, t - t0);
          }
        },
      });

    const next = syntheticBars({ symbol: SYMBOL, startPrice: 100, seed: 7 });
    let seq = 0;
    const run = randomUUID().slice(0, 8);
    const publishTicks = (n: number): void => {
      const items: PublishItem[] = [];
      // The feed's envelopes, with ids numbered rather than random and one timestamp per batch (the load generator shares the cores too).
      const timestamp = new Date().toISOString();
      for (let i = 0; i < n; i++) {
        const bar = next();
        const t = now();
        sendTimes.record(seq, bar.ts, t);
        const envelope: Envelope = { id: `${run}-${seq}`, timestamp, producer_service: 'bench', trace_id: `${TRACE_PREFIX}${seq}`, schema: 'market.bar.v1', data: bar };
        items.push({ subject: subjects.rawIngest(SYMBOL), envelope });
        seq++;
      }
      void bus.publishBatch(items, { fireAndForget: true, pack: true });
    };

    const durables: [string, string][] = [
      ['MARKET', 'data-worker'],
      ['MARKET', 'strategy-worker'],
      ['MARKET', 'order-worker'],
      ['ORDERS', 'order-worker'],
      ['EXECUTIONS', 'strategy-worker'],
    ];
    /** Waits until no durable of the pipeline has anything pending or unacked; returns what is left (messages). */
    const drained = async (timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all(durables.map(([stream, name]) => bus.jsm.consumers.info(stream, name)));
        const backlog = infos.reduce((n, ci) => n + ci.num_pending + ci.num_ack_pending, 0);
        if (backlog === 0 || Date.now() > deadline) return backlog;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const measurePhase = async ({ rate, seconds, warmupSeconds = 0, stageTaps = false }: Phase) => {
      histogram = newHistogram();
      decision = newHistogram();
      stages = { events: newHistogram(), intents: newHistogram() };
      fills = 0;
      cancelled = 0;
      reportsSeen = new Set();
      const taps = stageTaps ? [stageSub('md.events.>', 'events'), stageSub('orders.intents.>', 'intents')] : [];
      const warmup = rate * warmupSeconds;
      const total = rate * seconds;
      // The previous phase has drained: its ticks can no longer be filled or decided on; nor can the warm-up's be measured.
      sendTimes.reset(seq + warmup, total);
      await pace(rate, warmup, publishTicks);
      const cpu0 = cpu.now();
      const writes0 = writes.now();
      const steal = stealWatch();
      await pace(rate, total, publishTicks);
      await bus.flush();
      const lastTick = Date.now();
      const backlog = await drained(60_000);
      const drainMs = Date.now() - lastTick;
      // Through the drain: the last fills, and a probe's verdict, depend on it.
      const stolenMsPerSecond = steal();
      await new Promise((r) => setTimeout(r, 200));
      for (const t of taps) t.unsubscribe();
      const cpuMsPer1kTicks = cpu.since(cpu0, total);
      const writeCallsPer1kTicks = writes.since(writes0, total);
      return {
        ticksPerSecond: rate,
        ticks: total,
        fills,
        cancelled,
        drainMs,
        backlogAfter: backlog,
        ...percentilesMs(histogram),
        decisionToFill: p50p99(decision),
        ...(stageTaps && {
          tickToEvent: p50p99(stages.events),
          tickToIntent: p50p99(stages.intents),
        }),
        cpuMsPer1kTicks,
        writeCallsPer1kTicks,
        stolenMsPerSecond,
      };
    };

    /** A phase during which another guest had the cores is measured again (harness.ts leastDisturbed). */
    const runPhase = (phase: Phase) => leastDisturbed(() => measurePhase(phase));

    // Warm-up: JIT, connections, consumers.
    await measurePhase({ rate: 1_000, seconds: 1 });
    if (only) {
      const phases: Record<string, unknown> = {};
      for (const spec of only.split(',')) {
        const [rate, seconds, warmupSeconds = 0] = spec.split(':').map(Number);
        phases[spec] = await runPhase({ rate, seconds, warmupSeconds: warmupSeconds || 0, stageTaps: spec.endsWith(':taps') });
      }
      // What the broker stored over all phases (wire messages and bytes per stream): where its work goes.
      const streams: Record<string, { messages: number; bytes: number }> = {};
      for await (const si of bus.jsm.streams.list()) streams[si.config.name] = { messages: si.state.messages, bytes: si.state.bytes };
      return { phases, streams };
    }
    // The latency phases and the probes run without the stage taps (at 10k ticks/s they cost 8-10 ms of
    // nats-server and bench CPU per 1,000 ticks, on the cores the pipeline needs); one phase of their own says where the time goes.
    const at100 = await runPhase({ rate: 100, seconds: 10, warmupSeconds: 1 });
    const at1k = await runPhase(AT_1K);
    const at10k = await runPhase(AT_10K);
    const stagesAt10k = await runPhase({ rate: 10_000, seconds: 5, warmupSeconds: 1, stageTaps: true });

    const probes: SustainedProbe[] = [];
    const keepsUp = async (rate: number): Promise<boolean> => {
      const r = await runPhase({ rate, seconds: PROBE_SECONDS });
      const ok = r.backlogAfter === 0 && r.drainMs <= KEEPS_UP_DRAIN_MS && r.cancelled === 0;
      probes.push({
        ticksPerSecond: rate,
        drainMs: r.drainMs,
        cancelled: r.cancelled,
        keepsUp: ok,
        stolenMsPerSecond: r.stolenMsPerSecond,
        ...(r.disturbed && { disturbed: r.disturbed.map((d) => ({ drainMs: d.drainMs, stolenMsPerSecond: d.stolenMsPerSecond })) }),
      });
      return ok;
    };
    let passed = 0;
    let failed = 2_000;
    while (await keepsUp(failed)) {
      passed = failed;
      failed *= 2;
    }
    while (failed - passed > Math.max(500, passed / 10)) {
      const mid = Math.round((passed + failed) / 2 / 100) * 100;
      if (await keepsUp(mid)) passed = mid;
      else failed = mid;
    }
    // The target rate itself, unless the search already probed it.
    let atTarget = probes.find((p) => p.ticksPerSecond === TARGET_SUSTAINED);
    if (!atTarget) {
      if (await keepsUp(TARGET_SUSTAINED)) passed = Math.max(passed, TARGET_SUSTAINED);
      atTarget = probes[probes.length - 1];
    }
    // After the probes, which would otherwise start from the minute's build-up (its streams, the workers' heaps).
    const steadyAt10k = await runPhase(AT_10K_STEADY);
    sub.unsubscribe();

    // Raw publish ceiling of the hot path alone (no consumers in the loop).
    const n = 200_000;
    const payload = encodeEnvelope(makeEnvelope('market.bar.v1', next(), { producer: 'bench' }));
    const p0 = Date.now();
    for (let i = 0; i < n; i++) bus.nc.publish(subjects.marketEvents('PUBONLY'), payload);
    await bus.flush();
    const publishOnlyRate = Math.round(n / ((Date.now() - p0) / 1_000));

    return {
      setup: 'nats-server 2.9 (GOMAXPROCS=1, as local mode runs it beside the workers) + redis-server on loopback; data, strategy, order workers as 3 processes; one-second synthetic bars; sma-cross 2/4; same machine as the bench (shared cores)',
      at100,
      at1k,
      at10k,
      stagesAt10k,
      steadyAt10k,
      transportFloor,
      floorWithWork,
      sustained: { ticksPerSecond: passed, atTarget, probeSeconds: PROBE_SECONDS, keepsUpDrainMs: KEEPS_UP_DRAIN_MS, probes },
      hotPathPublishOnly: { messages: n, messagesPerSecond: publishOnlyRate },
      targets: { p50_ms_at_10k: 1, p99_ms_at_10k: 5, sustained_ticks_per_second: TARGET_SUSTAINED },
    };
  } finally {
    await stopAll(children);
    await bus.close();
    await nats.stop();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runLatencyBench().then(
    (r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
