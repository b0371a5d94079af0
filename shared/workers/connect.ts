import { KafkaBus, MemoryBus, NatsBus, type Bus } from '../bus/index.ts';
import type { WorkerEnv } from './env.ts';

/** The bus the environment names (BUS=nats|kafka|memory). */
export async function connectBus(env: WorkerEnv, name: string, onRetry?: (attempt: number, err: unknown) => void): Promise<Bus> {
  switch (env.BUS) {
    case 'nats':
      return NatsBus.connect({ url: env.NATS_URL, name, onRetry });
    case 'kafka':
      return new KafkaBus({ brokers: env.KAFKA_BROKERS, clientId: name, idempotent: env.KAFKA_IDEMPOTENT, onRetry });
    case 'memory':
      return new MemoryBus();
  }
}
