/**
 * The transport floor: what the hot path's shape costs on this machine before any plane does any
 * work. The same topology as tick-to-fill at 10,000 ticks/s (load generator -> three processes in
 * a row -> load generator, four crossings of nats-server), but each process only forwards the bytes
 * over core NATS (relay.ts). The load is the same packed market envelopes at the same pacing, and the
 * latency runs from handing a batch to the client to decoding it at the end, as tick-to-fill does.
 * A pipeline whose stages do real work (decode, validate, decide, persist, ack) cannot beat it.
 */
import type { ChildProcess } from 'node:child_process';
import { packEnvelopes, packable, decodeEnvelopes } from '../shared/bus/codec.ts';
import type { NatsBus } from '../shared/bus/index.ts';
import type { Envelope } from '../shared/domain/envelope.ts';
import { syntheticBars } from '../shared/workers/replay.ts';
import { WORKER_NODE_FLAGS } from '../shared/workers/spawn.ts';
import { cpuSeconds, leastDisturbed, newHistogram, now, pace, percentilesMs, perKTicks, recordMs, serverPid, spawnReady, stealWatch, stopAll } from './harness.ts';

const STAGES = 3;
const subject = (i: number) => `bench.floor.${i}`;

export interface FloorPhase {
  /** Its key in the results (at1k, at10k), as in the latency bench. */
  readonly name: string;
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/** `spinUsPerTick`: CPU each relay burns per envelope before forwarding (0: the floor itself). */
export async function measureTransportFloor(bus: NatsBus, natsUrl: string, phases: readonly FloorPhase[], spinUsPerTick = 0): Promise<Record<string, unknown>> {
  const relays: ChildProcess[] = [];
  try {
    // Started as the workers are (spawn.ts), since they stand in for them.
    for (let i = 0; i < STAGES; i++) relays.push(await spawnReady([...WORKER_NODE_FLAGS, '--import', 'tsx', 'bench/relay.ts', natsUrl, subject(i), subject(i + 1), String(spinUsPerTick)], 'relay ready'));
    const pids = { ...Object.fromEntries(relays.map((r, i) => [`relay${i + 1}`, r.pid])), nats: serverPid('nats-server', Number(new URL(natsUrl).port)), bench: process.pid };
    const cpu = perKTicks(pids, cpuSeconds, 1_000);

    // Send times by tick number (trace id `floor-N`); NaN until sent, and for the warm-up's ticks.
    let sent = new Float64Array(0);
    let firstMeasured = 0;
    let histogram = newHistogram();
    const sub = bus.nc.subscribe(subject(STAGES), {
      callback: (_err, msg) => {
        const t = now();
        for (const { envelope } of decodeEnvelopes(msg.data, msg.subject)) {
          const t0 = envelope ? sent[Number(envelope.trace_id.slice('floor-'.length)) - firstMeasured] : undefined;
          if (t0 !== undefined && !Number.isNaN(t0)) recordMs(histogram, t - t0);
        }
      },
    });

    const next = syntheticBars({ symbol: 'FLOOR-USD', startPrice: 100, seed: 11 });
    let seq = 0;
    const publishTicks = (n: number): void => {
      const timestamp = new Date().toISOString();
      const elements = [];
      for (let i = 0; i < n; i++, seq++) {
        const envelope: Envelope = { id: `floor-${seq}`, timestamp, producer_service: 'bench', trace_id: `floor-${seq}`, schema: 'market.bar.v1', data: next() };
        const j = seq - firstMeasured;
        if (j >= 0 && j < sent.length) sent[j] = now();
        elements.push(packable(envelope));
      }
      bus.nc.publish(subject(0), packEnvelopes(elements));
    };

    const results: Record<string, unknown> = {};
    const measure = async ({ rate, seconds, warmupSeconds }: FloorPhase) => {
      const total = rate * seconds;
      sent = new Float64Array(total).fill(NaN);
      firstMeasured = seq + rate * warmupSeconds;
      histogram = newHistogram();
      await pace(rate, rate * warmupSeconds, publishTicks);
      const cpu0 = cpu.now();
      const steal = stealWatch();
      await pace(rate, total, publishTicks);
      await bus.nc.flush();
      await new Promise((r) => setTimeout(r, 200));
      const stolenMsPerSecond = steal();
      return { ticksPerSecond: rate, ticks: total, received: histogram.totalCount, ...percentilesMs(histogram), cpuMsPer1kTicks: cpu.since(cpu0, total), stolenMsPerSecond };
    };
    for (const phase of phases) results[phase.name] = await leastDisturbed(() => measure(phase));
    sub.unsubscribe();
    const work = spinUsPerTick > 0 ? `, each busy ${spinUsPerTick} µs per tick before forwarding` : '';
    return { setup: `load generator -> ${STAGES} relay processes forwarding bytes over core NATS${work} -> load generator (${STAGES + 1} nats-server crossings), same packed bars and pacing as tick-to-fill`, ...results };
  } finally {
    await stopAll(relays);
  }
}
