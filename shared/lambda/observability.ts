/** Powertools logger (JSON, secrets redacted) and CloudWatch EMF metrics, one pair per plane function. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export type Plane = 'data' | 'strategy' | 'order' | 'backtest' | 'bridge';

/** The metric names of the AWS contract. */
export type MetricName = 'IngestedEvents' | 'QualityRejects' | 'Signals' | 'OrderIntents' | 'Orders' | 'Fills' | 'RiskRejects' | 'PnL' | 'DlqMessages';

const SECRET_KEY = /secret|password|passwd|token|authorization|api[-_]?key|credential|private[-_]?key/i;
export const REDACTED = '[REDACTED]';

/**
 * A JSON replacer that blanks values under secret-looking keys and any occurrence of a known secret
 * value (e.g. the broker secret once fetched), wherever it appears in a log line.
 */
export function secretRedactor(secretValues: () => readonly string[]): (key: string, value: unknown) => unknown {
  return (key, value) => {
    if (key && SECRET_KEY.test(key) && value !== undefined && value !== null && typeof value !== 'object') return REDACTED;
    if (typeof value === 'string') {
      let out = value;
      for (const s of secretValues()) if (s.length >= 4 && out.includes(s)) out = out.split(s).join(REDACTED);
      return out;
    }
    return value;
  };
}

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  count(name: MetricName, value?: number): void;
  /** Registers a secret value so it never reaches a log line. */
  addSecret(value: string): void;
}

export function createObservability(plane: Plane, env: Readonly<Record<string, string | undefined>> = process.env): Observability {
  const secrets: string[] = [];
  const serviceName = env.POWERTOOLS_SERVICE_NAME || `algoplanes-${plane}`;
  const logger = new Logger({ serviceName, persistentKeys: { plane }, jsonReplacerFn: secretRedactor(() => secrets) });
  const metrics = new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE || 'algoplanes', serviceName, defaultDimensions: { plane } });
  return {
    logger,
    metrics,
    count: (name, value = 1) => {
      if (value !== 0) metrics.addMetric(name, MetricUnit.Count, value);
    },
    addSecret: (value) => {
      secrets.push(value);
    },
  };
}
