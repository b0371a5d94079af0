/** How the launchers shipped here (local runner, compose profile, e2e tests, bench) start a worker process. */
import type { WorkerKind } from './run.ts';

/**
 * Node flags of a worker process. Single-threaded GC: by default V8 spreads each scavenge over
 * helper threads, which on a machine whose few cores the other workers and nats-server share take
 * those cores from the processes a tick is waiting for, at every worker's every scavenge. On the
 * 2-core build VM at 10,000 ticks/s, seven interleaved pairs of 6-8 s runs (`BENCH_LATENCY_PHASES`)
 * gave tick-to-fill p99 median 8.1 ms (7.1-14.1) with it against 12.0 ms (8.9-14.7) without, p99.9
 * 13.3 against 17.8 ms, at the same CPU per tick. V8 only takes it on the command line
 * (v8.setFlagsFromString aborts the process at the next GC, and NODE_OPTIONS refuses it).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** `node` arguments running one worker from the repository root; `extra` goes before the script (profiling flags, say). */
export function workerNodeArgs(kind: WorkerKind, extra: readonly string[] = []): string[] {
  return [...WORKER_NODE_FLAGS, ...extra, '--import', 'tsx', 'shared/workers/main.ts', kind];
}
