/** What the bench sections share: child processes, the clock, histograms, pacing, per-process CPU and the VM's stolen time from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one host. */
export const now = (): number => performance.timeOrigin + performance.now();

/** Microsecond latencies up to a minute, 3 significant digits. */
export const newHistogram = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

/** A latency in milliseconds, recorded in microseconds (the histogram's unit). */
export function recordMs(h: hdr.Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1_000)));
}

export function percentilesMs(h: hdr.Histogram): { p50_ms: number; p99_ms: number; p999_ms: number; max_ms: number } {
  return { p50_ms: h.getValueAtPercentile(50) / 1_000, p99_ms: h.getValueAtPercentile(99) / 1_000, p999_ms: h.getValueAtPercentile(99.9) / 1_000, max_ms: h.maxValue / 1_000 };
}

/**
 * Hands `total` ticks to `publish` at `rate` per second: at every turn of a 1 ms timer, the ticks
 * that have come due since the last turn, as one batch (as a feed writes what arrived since its last write).
 */
export async function pace(rate: number, total: number, publish: (n: number) => void): Promise<void> {
  const startMs = Date.now();
  let published = 0;
  while (published < total) {
    const due = Math.min(total, Math.floor(((Date.now() - startMs) / 1_000) * rate));
    if (due > published) {
      publish(due - published);
      published = due;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
}

const CLOCK_TICKS = 100;

/** A reading parsed from a /proc file (Linux); NaN when the file is gone (the process exited) or unreadable. */
function procReading(path: string, parse: (text: string) => number): number {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  return procReading(`/proc/${pid}/stat`, (text) => {
    const fields = text.split(') ')[1].split(' ');
    return (process.env.BENCH_CPU_FIELD === 'sys' ? Number(fields[12]) : Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  });
}

/**
 * Seconds the hypervisor ran something else while this VM's cores wanted to run, summed over the
 * cores: the eighth value of /proc/stat's first line (user nice system idle iowait irq softirq steal),
 * in clock ticks. NaN where the kernel does not account for it.
 */
export function stolenSeconds(procStat: string): number {
  const fields = procStat.split('\n', 1)[0].trim().split(/\s+/);
  return fields[0] === 'cpu' && fields.length > 8 ? Number(fields[8]) / CLOCK_TICKS : NaN;
}

/**
 * A stopwatch of stolen time (stolenSeconds) from now on, read as milliseconds per wall-clock second.
 * On the build VM latency moved by several times between runs of the same code, so every measured
 * stretch reports what the hypervisor took during it.
 */
export function stealWatch(): () => number {
  const read = (): number => procReading('/proc/stat', stolenSeconds);
  const s0 = read();
  const t0 = performance.now();
  // The kernel counts in 10 ms ticks: one decimal is more than the reading holds.
  return () => Math.round(((read() - s0) * 1e7) / (performance.now() - t0)) / 10;
}

/**
 * Stolen time above this during a measured stretch (ms per second over both cores, 5% of the build
 * VM) means another guest had the cores: the figure says more about the neighbour than about us.
 * On the build VM stretches read 0-70 ms/s when the neighbours were quiet and 140-1,100 ms/s when
 * not, with latency percentiles four to seven times higher.
 */
export const DISTURBED_STEAL_MS_PER_S = 100;
/** Measurements again after a disturbed one, at most. */
export const REMEASURES = 2;

/**
 * Runs `measure` until a run was not disturbed (DISTURBED_STEAL_MS_PER_S), at most 1 + REMEASURES
 * times, and returns the run with the least stolen time. The disturbed runs are not dropped: they are
 * returned with it, in `disturbed`, and end up in latest.json beside it.
 */
export async function leastDisturbed<T extends { readonly stolenMsPerSecond: number }>(measure: () => Promise<T>): Promise<T & { disturbed?: T[] }> {
  const runs: T[] = [];
  for (let i = 0; i <= REMEASURES; i++) {
    runs.push(await measure());
    if (!(runs[i].stolenMsPerSecond > DISTURBED_STEAL_MS_PER_S)) break;
  }
  const best = runs.reduce((a, b) => (b.stolenMsPerSecond < a.stolenMsPerSecond ? b : a));
  const others = runs.filter((r) => r !== best);
  return others.length > 0 ? { ...best, disturbed: others } : best;
}

/** " (stolen X ms/s; other runs: ...)" for a log line: what the hypervisor took, and `figure` of each disturbed run beside it. */
export function describeSteal<R extends { readonly stolenMsPerSecond?: number }>(f: { readonly stolenMsPerSecond?: number; readonly disturbed?: readonly R[] }, figure: (run: R) => string): string {
  if (f.stolenMsPerSecond === undefined || Number.isNaN(f.stolenMsPerSecond)) return '';
  const others = (f.disturbed ?? []).map((d) => `${figure(d)} at ${d.stolenMsPerSecond} ms/s`);
  return ` (stolen ${f.stolenMsPerSecond} ms/s${others.length ? `; other runs: ${others.join(', ')}` : ''})`;
}

/** Write system calls a process has made so far (each one a loopback send, and a wake-up of its reader). */
export function writeCalls(pid: number): number {
  return procReading(`/proc/${pid}/io`, (text) => Number(/syscw: (\d+)/.exec(text)?.[1] ?? NaN));
}

/** The server process (nats-server, redis-server) listening on `port`: the test helpers do not expose their pids. */
export function serverPid(binary: string, port: number): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // redis-server rewrites its title to "redis-server 127.0.0.1:<port>"; nats-server keeps "-p <port>".
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.split(' ')[0].endsWith(binary) && (cmd.includes(` ${port}`) || cmd.includes(`:${port}`))) return Number(d);
    } catch {
      // The process went away while listing.
    }
  }
  return undefined;
}

/**
 * Per-process readings (CPU seconds, write calls) turned into amounts per 1,000 ticks between two
 * points: on a shared machine the cost that caps the rate says more than wall-clock latency does.
 * `unit` converts a reading's difference (1,000 turns CPU seconds into milliseconds).
 */
export function perKTicks(pids: Readonly<Record<string, number | undefined>>, read: (pid: number) => number, unit: number) {
  const readAll = (): Record<string, number> => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === undefined ? NaN : read(pid)]));
  return {
    now: readAll,
    since: (before: Record<string, number>, ticks: number): Record<string, number> =>
      Object.fromEntries(Object.entries(readAll()).map(([k, v]) => [k, Math.round(((v - before[k]) * unit * 1e6) / ticks) / 1_000])),
  };
}

/**
 * A node child process (`nodeArgs`: its flags, script and arguments), once its stdout has shown `ready`.
 * Its stdout is read (and dropped) for as long as it runs, so a chatty child never blocks on a full pipe.
 */
export async function spawnReady(nodeArgs: readonly string[], ready: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, nodeArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (!out.includes(ready)) return;
      out = '';
      child.stdout?.off('data', onData).resume();
      child.off('exit', onExit);
      resolve();
    };
    const onExit = (code: number | null) => reject(new Error(`node ${nodeArgs.join(' ')} exited (${code}) before it was ready:\n${out}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  return child;
}

/** SIGTERM to every child still running, then waits until all have exited. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
}
