import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errorMessage } from '../util/errors.ts';

/** What /healthz reports; `down` answers 503 so load balancers and compose health checks see it. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down';
}

/**
 * The two endpoints every long-running process serves: /healthz (JSON) and /metrics (Prometheus).
 * `beforeScrape` refreshes metrics that are pulled rather than pushed (e.g. NATS server figures).
 */
export async function serveHealthAndMetrics(opts: {
  port: number;
  host?: string;
  health: () => HealthReport;
  registry: Registry;
  beforeScrape?: () => Promise<void>;
}): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/healthz') {
      const h = opts.health();
      res.writeHead(h.status === 'down' ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    } else if (req.url === '/metrics') {
      (opts.beforeScrape ? opts.beforeScrape() : Promise.resolve())
        .then(() => opts.registry.metrics())
        .then(
          (text) => {
            res.writeHead(200, { 'content-type': opts.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            res.writeHead(500);
            res.end(errorMessage(err));
          },
        );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve()));
  return { server, port: (server.address() as AddressInfo).port };
}
