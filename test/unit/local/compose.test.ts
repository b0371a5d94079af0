/** local/compose.yml: valid YAML, every profile the stack promises, health checks, limits, mounts. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYaml } from './yaml.ts';
import { WORKER_NODE_FLAGS } from '../../../shared/workers/spawn.ts';

const LOCAL = resolve('local');
const compose = parseYaml(readFileSync(join(LOCAL, 'compose.yml'), 'utf8'), 'local/compose.yml') as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

interface Service {
  image?: string;
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  labels?: Record<string, string>;
  healthcheck?: { test?: string[] };
  deploy?: { resources?: { limits?: { cpus?: string; memory?: string } } };
  depends_on?: Record<string, { condition: string }>;
}

const services = Object.entries(compose.services);
const longRunning = services.filter(([, s]) => s.labels?.['algoplanes.oneshot'] !== 'true');

describe('local/compose.yml', () => {
  it('has the profiles core, aws, kafka, monitoring and app', () => {
    const profiles = new Set(services.flatMap(([, s]) => s.profiles ?? []));
    for (const p of ['core', 'aws', 'kafka', 'monitoring', 'app']) expect(profiles, p).toContain(p);
  });

  it('gives every service an image, a profile and cpu/memory limits', () => {
    for (const [name, s] of services) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.profiles?.length, name).toBeGreaterThan(0);
      expect(s.deploy?.resources?.limits?.cpus, name).toMatch(/^\d+(\.\d+)?$/);
      expect(s.deploy?.resources?.limits?.memory, name).toMatch(/^\d+[MG]$/);
    }
  });

  it('gives every long-running service a health check (one-shot jobs are labelled as such)', () => {
    expect(longRunning.length).toBeGreaterThanOrEqual(11);
    for (const [name, s] of longRunning) {
      expect(s.healthcheck?.test?.[0], name).toMatch(/^CMD(-SHELL)?$/);
      expect(s.healthcheck?.test?.length, name).toBeGreaterThan(1);
    }
  });

  it('mounts only files and folders that exist, and declares every named volume', () => {
    for (const [name, s] of services) {
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        if (!source) throw new Error(`${name}: empty volume ${v}`);
        if (source.startsWith('.')) expect(existsSync(join(LOCAL, source)), `${name} mounts ${source}`).toBe(true);
        else if (!source.startsWith('/')) expect(Object.keys(compose.volumes), `${name} uses volume ${source}`).toContain(source);
      }
    }
  });

  it('waits only on services that exist, with a condition', () => {
    for (const [name, s] of services) {
      for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
        expect(Object.keys(compose.services), `${name} depends on ${dep}`).toContain(dep);
        expect(['service_healthy', 'service_completed_successfully']).toContain(cond.condition);
        if (cond.condition === 'service_healthy') expect(compose.services[dep]?.healthcheck, `${dep} has no healthcheck`).toBeDefined();
      }
    }
  });

  it('runs nats 2.10 with JetStream and monitoring on 8222, and redis 7', () => {
    const nats = compose.services.nats;
    expect(nats?.image).toMatch(/^nats:2\.10/);
    expect(nats?.command).toContain('-js');
    expect(nats?.command?.join(' ')).toContain('-m 8222');
    expect(compose.services.redis?.image).toBe('redis:7');
  });

  it('starts LocalStack with every AWS service of the contract', () => {
    const enabled = (compose.services.localstack?.environment?.SERVICES ?? '').split(',');
    for (const svc of ['dynamodb', 'sqs', 'kinesis', 'lambda', 'events', 'scheduler', 's3', 'cloudwatch', 'secretsmanager']) expect(enabled, svc).toContain(svc);
  });

  it('runs Kafka in KRaft mode without ZooKeeper, with a UI', () => {
    const env = compose.services.kafka?.environment ?? {};
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(Object.keys(env).some((k) => k.includes('ZOOKEEPER'))).toBe(false);
    expect(compose.services['kafka-ui']?.environment?.KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS).toBe('kafka:29092');
  });

  it('runs the three plane workers from the repo on node 20 with `algoplanes worker <plane>` under the worker node flags, on the ports Prometheus scrapes', () => {
    const targets = JSON.parse(readFileSync(join(LOCAL, 'prometheus/targets/workers.json'), 'utf8')) as { targets: string[]; labels: { plane: string } }[];
    for (const plane of ['data', 'strategy', 'order']) {
      const s = compose.services[`${plane}-worker`];
      expect(s?.image).toMatch(/^node:20/);
      expect(s?.command).toEqual(['node', ...WORKER_NODE_FLAGS, 'bin/algoplanes.js', 'worker', plane]);
      const target = targets.find((t) => t.labels.plane === plane)?.targets[0];
      expect(target).toBe(`${plane}-worker:${s?.environment?.WORKER_PORT}`);
      expect(s?.environment?.BUS).toBe('nats');
    }
  });
});
