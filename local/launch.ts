/**
 * Starts real servers (for integration tests and `npm run local`), in the style of nats.js's test
 * launcher: a free port, a temp directory, wait until the port accepts connections, and a stop()
 * that kills the process tree.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Fails with the install command when a binary the test needs is not on PATH. */
export function requireBinary(binary: string, installHint: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error(`${binary} not found on PATH; install it with: ${installHint}`);
  return path;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `algoplanes-${prefix}-`));
}

export async function waitForPort(port: number, timeoutMs = 30_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect({ port, host }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunningServer {
  readonly port: number;
  readonly dir: string;
  readonly process: ChildProcess;
  /** Output so far, for diagnosing a server that would not start. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Environment of a nats-server that shares its cores with the workers (local mode, tests, the
 * bench): one Go processor. With the default, one per core, its idle processors spin looking for
 * work at every wake-up; on the 2-core build machine that was 9 ms of CPU per 1,000 ticks at 10,000
 * ticks/s (50.5 -> 41.5), out of the cores the workers need. A server with a machine of its own
 * keeps the default.
 */
export const SHARED_CORES_NATS_ENV: Readonly<NodeJS.ProcessEnv> = { GOMAXPROCS: '1' };

export interface ServerSpec {
  name: string;
  command: string;
  args: (port: number, dir: string) => string[];
  env?: NodeJS.ProcessEnv;
  port?: number;
  readyTimeoutMs?: number;
}

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const port = spec.port ?? (await freePort());
  const dir = tempDir(spec.name);
  // detached: the server leads its own process group, so stop() takes down any children it forks.
  const child = spawn(spec.command, spec.args(port, dir), {
    cwd: dir,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  child.on('exit', () => (exited = true));

  const stop = async () => {
    if (!exited && child.pid) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await Promise.race([
      waitForPort(port, spec.readyTimeoutMs ?? 60_000),
      new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`${spec.name} exited early (code ${code})`)))),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${spec.name} failed to start: ${(err as Error).message}\n${out}`);
  }
  return { port, dir, process: child, output: () => out, stop };
}
