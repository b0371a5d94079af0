/**
 * `npm run bench`: prints every figure and writes them all to bench/results/latest.json.
 * Sections: backtest throughput (bars/s, quotes/s, memory); tick-to-fill latency over loopback NATS
 * through the three worker processes; Lambda bundle sizes and cold init. `npm run bench -- backtest`
 * runs one section. Every run first probes the machine (machine.ts), whatever the sections, and every
 * measured stretch reports the CPU time the hypervisor stole during it (harness.ts stealWatch).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { runBacktestBench } from './backtest.ts';
import { runBundleBench } from './bundles.ts';
import { runLatencyBench, type SustainedProbe } from './latency.ts';
import { describeSteal } from './harness.ts';
import { ISSUE_REFERENCE, probeMachine } from './machine.ts';

type Section = (log: (line: string) => void) => Promise<Record<string, unknown>>;

interface Stolen {
  readonly stolenMsPerSecond?: number;
  readonly p99_ms?: number;
  readonly disturbed?: readonly Stolen[];
}

const stolen = (f: Stolen): string => describeSteal(f, (d) => `p99 ${d.p99_ms} ms`);

function logFloor(log: (line: string) => void, runs: unknown, what: string): void {
  for (const p of Object.values(runs as Record<string, Stolen & { ticksPerSecond?: number; p50_ms: number; p999_ms: number }>)) {
    if (p && typeof p === 'object') log(`floor      ${p.ticksPerSecond} ticks/s, ${what}: p50 ${p.p50_ms} ms, p99 ${p.p99_ms} ms, p99.9 ${p.p999_ms} ms${stolen(p)}`);
  }
}

const SECTIONS: Record<string, Section> = {
  backtest: runBacktestBench,
  latency: async (log) => {
    const figures = await runLatencyBench();
    for (const [name, f] of Object.entries(figures as Record<string, Stolen & { p50_ms?: number; p999_ms?: number; ticksPerSecond?: number; messagesPerSecond?: number }>)) {
      if (f && typeof f === 'object' && f.p50_ms !== undefined) log(`${name.padEnd(10)} ${f.ticksPerSecond} ticks/s: tick-to-fill p50 ${f.p50_ms} ms, p99 ${f.p99_ms} ms, p99.9 ${f.p999_ms} ms${stolen(f)}`);
      else if (name === 'sustained') {
        const t = (f as { atTarget: SustainedProbe }).atTarget;
        log(`sustained  ${f.ticksPerSecond} ticks/s end to end through three workers`);
        log(`target     ${t.ticksPerSecond} ticks/s: ${t.keepsUp ? 'keeps up' : 'falls behind'} (drained in ${t.drainMs} ms, ${t.cancelled} orders cancelled as late)${describeSteal(t, (d) => `drained in ${d.drainMs} ms`)}`);
      }
      else if (name === 'transportFloor') logFloor(log, f, 'three relays forwarding bytes, no planes');
      else if (name === 'floorWithWork') for (const [spin, runs] of Object.entries(f)) logFloor(log, runs, `relays busy ${spin.replace(/\D+/g, '')} µs per tick`);
      else if (name === 'hotPathPublishOnly') log(`publish    ${f.messagesPerSecond} msg/s into the market stream alone`);
    }
    return figures;
  },
  bundles: async (log) => {
    const figures = await runBundleBench();
    for (const [name, h] of Object.entries(figures.handlers as Record<string, { kb: number; initMsMedian: number }>)) {
      log(`${name.padEnd(9)} ${String(h.kb).padStart(7)} KB  cold init ${h.initMsMedian} ms (median)`);
    }
    return figures;
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in SECTIONS));
  if (unknown.length) {
    process.stderr.write(`unknown bench section(s): ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}\n`);
    process.exit(2);
  }
  const names = wanted.length ? wanted : Object.keys(SECTIONS);
  const dir = join(import.meta.dirname, 'results');
  const file = join(dir, 'latest.json');
  // Running some sections updates them and keeps the others' last figures.
  const previous: Record<string, unknown> = wanted.length && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const probe = await probeMachine();
  const n = probe.nats;
  const r = ISSUE_REFERENCE;
  process.stdout.write(
    `== machine\n  bar JSON round trip ${probe.barJsonRoundTripUs} µs; loopback wake-up round trip p50 ${probe.wakeRoundTripUs.p50} µs, p99 ${probe.wakeRoundTripUs.p99} µs (write call p50 ${probe.loopbackWriteUs.p50} µs)${stolen(probe)}\n` +
      `  nats.js: request/reply p50 ${n.requestReplyMs.p50} ms, p99 ${n.requestReplyMs.p99} ms; core publish ${n.corePublishPerSecond.toLocaleString('en')} msg/s; JetStream publish (acked, ${r.jetStreamInFlight} in flight) ${n.jetStreamPublishPerSecond.toLocaleString('en')} msg/s\n` +
      `  (the hot-path issue's machine: ${r.requestReplyMs.p50} / ${r.requestReplyMs.p99} ms; ${r.corePublishPerSecond.toLocaleString('en')} msg/s; ${r.jetStreamPublishPerSecond.toLocaleString('en')} msg/s)\n`,
  );
  const results: Record<string, unknown> = {
    ...previous,
    generatedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, ...probe },
  };
  for (const name of names) {
    process.stdout.write(`\n== ${name}\n`);
    const started = performance.now();
    results[name] = await SECTIONS[name]((line) => process.stdout.write(`  ${line}\n`));
    process.stdout.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`\nwrote ${file}\n`);
}

await main();
