import { SHARED_CORES_NATS_ENV, requireBinary, startServer, type RunningServer } from './launch.ts';

/** A private nats-server with JetStream, on a free port, storing in its own temp dir. */
export async function startNatsServer(opts: { port?: number } = {}): Promise<RunningServer & { url: string }> {
  const bin = requireBinary('nats-server', 'apt-get install -y nats-server');
  const srv = await startServer({
    name: 'nats',
    command: bin,
    port: opts.port,
    env: SHARED_CORES_NATS_ENV,
    args: (port, dir) => ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
  });
  return Object.assign(srv, { url: `nats://127.0.0.1:${srv.port}` });
}
