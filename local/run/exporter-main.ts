/** Process entry of the exporter for docker compose: `tsx local/run/exporter-main.ts`. */
import * as z from 'zod';
import { LOCAL_ENDPOINTS } from '../../shared/workers/env.ts';
import { errorMessage } from '../../shared/util/errors.ts';
import { startExporter } from './exporter.ts';

const env = z
  .object({
    NATS_URL: z.string().default(LOCAL_ENDPOINTS.natsUrl),
    NATS_MONITOR_URL: z.string().url().default('http://127.0.0.1:8222'),
    EXPORTER_PORT: z.coerce.number().int().min(0).max(65_535).default(9104),
    EXPORTER_HOST: z.string().default('127.0.0.1'),
  })
  .parse(process.env);

const line = (level: string, msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, service: 'exporter', msg, ...fields }) + '\n');

try {
  const exporter = await startExporter({ natsUrl: env.NATS_URL, natsMonitorUrl: env.NATS_MONITOR_URL, port: env.EXPORTER_PORT, host: env.EXPORTER_HOST, log: (msg, f) => line('warn', msg, f) });
  line('info', 'exporter listening', { port: exporter.port });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void exporter.stop().then(() => process.exit(0)));
} catch (err) {
  line('error', 'exporter failed to start', { error: errorMessage(err) });
  process.exit(1);
}
