import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEnvelopes, type NatsBus } from '../../shared/bus/index.ts';
import { ExecutionReportSchema, type ExecutionReport } from '../../shared/domain/index.ts';
import { workerNodeArgs } from '../../shared/workers/spawn.ts';

export interface WorkerProcess {
  readonly kind: string;
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

export function spawnWorker(kind: 'data' | 'strategy' | 'order', env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, workerNodeArgs(kind), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString()).slice(-50_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { kind, child, output: () => out, exited };
}

export async function waitForLog(w: WorkerProcess, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!w.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`${w.kind} worker never logged "${text}":\n${w.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function stopWorker(w: WorkerProcess): Promise<number | null> {
  if (w.child.exitCode !== null) return w.child.exitCode;
  w.child.kill('SIGTERM');
  return w.exited;
}

/** First `rows` bars of a CSV, header kept. */
export function sliceCsv(src: string, dir: string, rows: number): string {
  const lines = readFileSync(src, 'utf8').split('\n');
  const path = join(dir, 'slice.csv');
  writeFileSync(path, lines.slice(0, rows + 1).join('\n') + '\n');
  return path;
}

/** Every execution report in the EXECUTIONS stream, in stream order (packed messages opened). */
export async function readExecutions(bus: NatsBus): Promise<ExecutionReport[]> {
  const info = await bus.jsm.streams.info('EXECUTIONS');
  const out: ExecutionReport[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage('EXECUTIONS', { seq });
    if (!m.subject.startsWith('exec.reports.')) continue;
    for (const e of decodeEnvelopes(m.data, m.subject)) out.push(ExecutionReportSchema.parse(e.envelope?.data) as ExecutionReport);
  }
  return out;
}

/** Envelopes stored under a subject prefix of a stream, counting each element of a packed message. */
export async function countEnvelopes(bus: NatsBus, stream: string, prefix: string): Promise<{ messages: number; envelopes: number }> {
  const info = await bus.jsm.streams.info(stream);
  let messages = 0;
  let envelopes = 0;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq });
    if (!m.subject.startsWith(prefix)) continue;
    messages++;
    envelopes += decodeEnvelopes(m.data, m.subject).filter((e) => e.envelope).length;
  }
  return { messages, envelopes };
}
