import { requireBinary, startServer, type RunningServer } from './launch.ts';

/** A private redis-server on a free (or given, for restart tests) port; no persistence. */
export async function startRedisServer(opts: { port?: number } = {}): Promise<RunningServer & { url: string }> {
  const bin = requireBinary('redis-server', 'apt-get install -y redis-server');
  const srv = await startServer({
    name: 'redis',
    command: bin,
    port: opts.port,
    args: (port, dir) => ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
  });
  return Object.assign(srv, { url: `redis://127.0.0.1:${srv.port}` });
}
