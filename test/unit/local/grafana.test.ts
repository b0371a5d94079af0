/** Grafana provisioning: datasources and dashboard folders line up with the dashboards and compose. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml } from './yaml.ts';

const G = resolve('local/grafana');
const datasources = (parseYaml(readFileSync(join(G, 'provisioning/datasources/datasources.yml'), 'utf8'), 'datasources.yml') as { datasources: { uid: string; type: string; url?: string }[] }).datasources;
const providers = (parseYaml(readFileSync(join(G, 'provisioning/dashboards/dashboards.yml'), 'utf8'), 'dashboards.yml') as { providers: { options: { path: string } }[] }).providers;
const compose = parseYaml(readFileSync(resolve('local/compose.yml'), 'utf8'), 'compose.yml') as { services: { grafana: { volumes: string[] } } };

interface Dashboard {
  uid: string;
  title: string;
  panels: { id: number; title: string; datasource: { uid: string; type: string }; targets: { datasource: { uid: string } }[]; gridPos: { x: number; w: number } }[];
}
const load = (kind: string): Dashboard[] => readdirSync(join(G, 'dashboards', kind)).map((f) => JSON.parse(readFileSync(join(G, 'dashboards', kind, f), 'utf8')) as Dashboard);

describe('local/grafana', () => {
  it('provisions a Prometheus datasource pointing at the compose service and a CloudWatch datasource', () => {
    expect(datasources.find((d) => d.uid === 'prometheus')).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(datasources.find((d) => d.uid === 'cloudwatch')).toMatchObject({ type: 'cloudwatch' });
  });

  it('loads dashboards from the folder compose mounts them into', () => {
    const mount = compose.services.grafana.volumes.find((v) => v.startsWith('./grafana/dashboards:'));
    expect(mount?.split(':')[1]).toBe(providers[0]?.options.path);
    expect(existsSync(join(G, 'dashboards/local')) && existsSync(join(G, 'dashboards/cloud'))).toBe(true);
  });

  it('has an overview and one dashboard per plane for each datasource, with unique uids', () => {
    const all = [...load('local'), ...load('cloud')];
    expect(new Set(all.map((d) => d.uid)).size).toBe(all.length);
    for (const kind of ['local', 'cloud']) {
      const uids = load(kind).map((d) => d.uid).sort();
      expect(uids).toEqual(['data', 'order', 'overview', 'strategy'].map((n) => `algoplanes-${kind}-${n}`));
    }
  });

  it('queries only its own datasource in every panel and target; panels fit the 24-column grid with unique ids', () => {
    const uids = new Set(datasources.map((d) => d.uid));
    for (const [kind, uid] of [['local', 'prometheus'], ['cloud', 'cloudwatch']] as const) {
      expect(uids).toContain(uid);
      for (const d of load(kind)) {
        expect(new Set(d.panels.map((p) => p.id)).size, d.uid).toBe(d.panels.length);
        for (const p of d.panels) {
          expect(p.datasource.uid, `${d.uid} ${p.title}`).toBe(uid);
          expect(p.targets.length, `${d.uid} ${p.title}`).toBeGreaterThan(0);
          for (const t of p.targets) expect(t.datasource.uid).toBe(uid);
          expect(p.gridPos.x + p.gridPos.w, `${d.uid} ${p.title}`).toBeLessThanOrEqual(24);
        }
      }
    }
  });

  it('the trading overview covers PnL, exposure, orders/fills, risk state, quality rejects, latency, lag and DLQ', () => {
    for (const kind of ['local', 'cloud']) {
      const overview = load(kind).find((d) => d.uid === `algoplanes-${kind}-overview`);
      const titles = (overview?.panels ?? []).map((p) => p.title.toLowerCase()).join(' | ');
      const topics = kind === 'local' ? ['pnl', 'exposure', 'fills', 'trading state', 'quality rejects', 'latency p50 / p99', 'consumer lag', 'dlq'] : ['pnl', 'fills', 'risk rejects', 'quality rejects', 'duration p99', 'lag', 'dlq depth'];
      for (const t of topics) expect(titles, `${kind} overview lacks ${t}`).toContain(t);
    }
  });
});
