import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../../../shared/workers/runtime.ts';

describe('worker metrics recorded without prom-client label lookups', () => {
  it('expose stage latency and message counts exactly as prom-client would', async () => {
    const ours = new WorkerMetrics('svc');
    const reference = new Registry();
    reference.setDefaultLabels({ service: 'svc' });
    const hist = new Histogram({ name: 'algoplanes_stage_latency_seconds', help: 'Latency per processing stage', labelNames: ['stage'], buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2], registers: [reference] });
    const samples = [0, 0.00005, 0.00007, 0.0003, 0.001, 0.004, 0.3, 2, 7];
    for (const [i, v] of samples.entries()) {
      const stage = i % 2 === 0 ? 'a.market' : 'a.intents';
      ours.stageLatency.stage(stage).observe(v);
      hist.observe({ stage }, v);
    }
    const text = await ours.registry.metrics();
    const block = (t: string) => t.split('\n\n').find((b) => b.includes('# TYPE algoplanes_stage_latency_seconds'))?.trimEnd();
    expect(block(text)).toBe(block(await reference.metrics()));

    for (let i = 0; i < 3; i++) ours.countBySubject('in', 'md.raw.BTC-USD');
    ours.countBySubject('in', 'md.raw.ETH-USD');
    ours.countBySubject('out', 'md.events.BTC-USD');
    expect(await ours.registry.metrics()).toMatch(/algoplanes_messages_in_total\{subject="md.raw",service="svc"\} 4/);
    ours.countBySubject('in', 'md.raw.BTC-USD');
    const again = await ours.registry.metrics();
    expect(again).toMatch(/algoplanes_messages_in_total\{subject="md.raw",service="svc"\} 5/);
    expect(again).toMatch(/algoplanes_messages_out_total\{subject="md.events",service="svc"\} 1/);
  });
});
