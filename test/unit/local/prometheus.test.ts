/** Prometheus config and alert rules pass promtool, and each alert fires on the series it guards. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary } from '../../../local/launch.ts';

const DIR = resolve('local/prometheus');
const promtool = () => requireBinary('promtool', 'apt-get install -y prometheus');

function run(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(promtool(), args, { cwd: DIR, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('local/prometheus', () => {
  it('prometheus.yml passes promtool check config (rules included)', () => {
    const r = run(['check', 'config', 'prometheus.yml']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS: \d+ rule files found/);
  });

  it('every rules file passes promtool check rules', () => {
    const files = readdirSync(join(DIR, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => join('rules', f));
    expect(files.length).toBeGreaterThan(0);
    const r = run(['check', 'rules', ...files]);
    expect(r.status, r.out).toBe(0);
  });

  it('alert unit tests pass (promtool test rules)', () => {
    const r = run(['test', 'rules', ...readdirSync(join(DIR, 'tests')).map((f) => join('tests', f))]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('defines the alerts the stack promises: stale feed, DLQ growing, risk HALTED, p99 over 5 ms, consumer lag', () => {
    const rules = readFileSync(join(DIR, 'rules/algoplanes.yml'), 'utf8');
    for (const alert of ['StaleFeed', 'DlqGrowing', 'RiskHalted', 'StageLatencyP99High', 'ConsumerLagHigh']) expect(rules).toContain(`alert: ${alert}\n`);
    expect(rules).toMatch(/> 0\.005\n/);
  });

  it('every file_sd target file is a JSON target group list', () => {
    for (const f of readdirSync(join(DIR, 'targets'))) {
      const groups = JSON.parse(readFileSync(join(DIR, 'targets', f), 'utf8')) as { targets: string[] }[];
      expect(groups.length, f).toBeGreaterThan(0);
      for (const g of groups) for (const t of g.targets) expect(t, f).toMatch(/^[\w.-]+:\d+$/);
    }
  });
});
