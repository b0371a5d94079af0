/** Process entry for one worker: `tsx shared/workers/main.ts data|strategy|order`. */
import { WORKER_ENV } from './env.ts';
import { runWorker, WORKER_KINDS, type WorkerKind } from './run.ts';

const kind = process.argv[2] as WorkerKind;
if (!WORKER_KINDS.includes(kind)) {
  process.stderr.write(`usage: main.ts ${WORKER_KINDS.join('|')}\n`);
  process.exit(64);
}
runWorker(kind, WORKER_ENV).catch((err: unknown) => {
  process.stderr.write(JSON.stringify({ level: 'error', service: `${kind}-worker`, msg: 'startup failed', error: err instanceof Error ? err.message : String(err) }) + '\n');
  process.exit(1);
});
