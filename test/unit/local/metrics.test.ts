/**
 * Every metric a Prometheus dashboard panel or an alert rule reads is one the code registers: the
 * workers' prom-client registry (shared/workers/runtime.ts) or the local exporter's. CloudWatch
 * dashboards read only the contract's EMF metrics, each on a plane that emits it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Registry } from 'prom-client';
import { PLANE_METRICS } from '../../../infra/stacks/observability.ts';
import { ExporterMetrics } from '../../../local/run/exporter.ts';
import { WorkerMetrics } from '../../../shared/workers/runtime.ts';
import { metricNames } from './promql.ts';
import { parseYaml } from './yaml.ts';

/** Series Prometheus itself creates for every scrape target. */
const SYNTHETIC = new Set(['up']);

async function exportedNames(registry: Registry): Promise<string[]> {
  const out: string[] = [];
  for (const m of await registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') out.push(`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`);
    else if (type === 'summary') out.push(m.name, `${m.name}_sum`, `${m.name}_count`);
    else out.push(m.name);
  }
  return out;
}

interface Panel {
  title: string;
  datasource: { type: string; uid: string };
  targets: { expr?: string; namespace?: string; metricName?: string; dimensions?: Record<string, string> }[];
}
function dashboards(kind: 'local' | 'cloud'): [string, { panels: Panel[] }][] {
  const dir = resolve('local/grafana/dashboards', kind);
  return readdirSync(dir).map((f) => [`${kind}/${f}`, JSON.parse(readFileSync(join(dir, f), 'utf8')) as { panels: Panel[] }]);
}

function ruleExpressions(): [string, string][] {
  const dir = resolve('local/prometheus/rules');
  return readdirSync(dir).flatMap((f) => {
    const doc = parseYaml(readFileSync(join(dir, f), 'utf8'), f) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] };
    return doc.groups.flatMap((g) => g.rules.map((r): [string, string] => [`${f} ${r.alert ?? r.record}`, r.expr]));
  });
}

describe('metrics queried by dashboards and alerts', async () => {
  const exported = new Set([...(await exportedNames(new WorkerMetrics('test').registry)), ...(await exportedNames(new ExporterMetrics().registry)), ...SYNTHETIC]);

  it('the registries hold the workers\' and exporter\'s metrics', () => {
    for (const name of ['algoplanes_messages_in_total', 'algoplanes_stage_latency_seconds_bucket', 'algoplanes_consumer_lag', 'algoplanes_fills_total', 'algoplanes_pnl', 'process_cpu_seconds_total']) {
      expect(exported, name).toContain(name);
    }
  });

  it('every Prometheus panel query reads exported metrics only', () => {
    const unknown: string[] = [];
    let queries = 0;
    for (const [file, d] of dashboards('local')) {
      for (const p of d.panels) {
        for (const t of p.targets) {
          expect(t.expr, `${file} "${p.title}" has no expr`).toBeTruthy();
          queries++;
          for (const n of metricNames(t.expr ?? '')) if (!exported.has(n)) unknown.push(`${file} "${p.title}": ${n}`);
        }
      }
    }
    expect(queries).toBeGreaterThan(40);
    expect(unknown).toEqual([]);
  });

  it('every alert rule reads exported metrics only', () => {
    const rules = ruleExpressions();
    expect(rules.length).toBeGreaterThanOrEqual(5);
    const unknown = rules.flatMap(([name, expr]) => metricNames(expr).filter((n) => !exported.has(n)).map((n) => `${name}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('CloudWatch panels read the contract\'s metrics in namespace algoplanes, each from a plane that emits it', () => {
    let count = 0;
    for (const [file, d] of dashboards('cloud')) {
      for (const p of d.panels) {
        for (const t of p.targets.filter((x) => x.namespace === 'algoplanes')) {
          count++;
          const plane = t.dimensions?.plane as keyof typeof PLANE_METRICS;
          expect(PLANE_METRICS[plane], `${file} "${p.title}" plane ${plane}`).toContain(t.metricName);
          expect(t.dimensions?.service, `${file} "${p.title}"`).toBe(`algoplanes-${plane}`);
        }
      }
    }
    const contract = new Set(Object.values(PLANE_METRICS).flat());
    const shown = new Set(dashboards('cloud').flatMap(([, d]) => d.panels.flatMap((p) => p.targets.map((t) => t.metricName))));
    expect([...contract].filter((m) => !shown.has(m))).toEqual([]);
    expect(count).toBeGreaterThan(10);
  });
});
