import { describe, expect, it } from 'vitest';
import { cpus } from 'node:os';
import { DISTURBED_STEAL_MS_PER_S, REMEASURES, describeSteal, leastDisturbed, stealWatch, stolenSeconds } from '../../../bench/harness.ts';

describe('stolen time', () => {
  it('reads the steal column of /proc/stat, in seconds', () => {
    // Captured from the build VM: user nice system idle iowait irq softirq steal guest guest_nice.
    expect(stolenSeconds('cpu  84889 0 12990 120870 533 0 2334 7087 0 0\ncpu0 42000 0 6000 60000 200 0 1000 3500 0 0\n')).toBe(70.87);
    expect(stolenSeconds('cpu  84889 0 12990 120870 533 0 2334\n')).toBeNaN();
    expect(stolenSeconds('intr 1 2 3 4 5 6 7 8 9')).toBeNaN();
  });

  it('times it as ms per wall second, within what the cores can lose', async () => {
    const steal = stealWatch();
    await new Promise((r) => setTimeout(r, 200));
    const ms = steal();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(ms).toBeLessThanOrEqual(1_000 * cpus().length);
  });
});

describe('leastDisturbed', () => {
  const runs = (...stolen: number[]) => {
    let i = 0;
    return async () => ({ run: i, stolenMsPerSecond: stolen[i++] });
  };

  it('keeps a quiet first run and measures nothing again', async () => {
    expect(await leastDisturbed(runs(5, 0))).toEqual({ run: 0, stolenMsPerSecond: 5 });
  });

  it('measures a disturbed run again and keeps the disturbed one beside the result', async () => {
    expect(await leastDisturbed(runs(DISTURBED_STEAL_MS_PER_S + 1, 3, 0))).toEqual({ run: 1, stolenMsPerSecond: 3, disturbed: [{ run: 0, stolenMsPerSecond: DISTURBED_STEAL_MS_PER_S + 1 }] });
  });

  it(`stops after ${REMEASURES} more runs and returns the least disturbed of them all`, async () => {
    const result = await leastDisturbed(runs(800, 300, 600, 0));
    expect(result.run).toBe(1);
    expect(result.disturbed?.map((r) => r.run)).toEqual([0, 2]);
  });

  it('treats a machine without steal accounting (NaN) as undisturbed', async () => {
    expect(await leastDisturbed(runs(NaN, 0))).toEqual({ run: 0, stolenMsPerSecond: NaN });
  });
});

describe('describeSteal', () => {
  it('names the stolen time and each disturbed run with its own figure', () => {
    const f = { stolenMsPerSecond: 2.5, p99: 30, disturbed: [{ stolenMsPerSecond: 600, p99: 150 }] };
    expect(describeSteal(f, (d) => `p99 ${d.p99} ms`)).toBe(' (stolen 2.5 ms/s; other runs: p99 150 ms at 600 ms/s)');
    expect(describeSteal({ stolenMsPerSecond: 0 }, () => 'x')).toBe(' (stolen 0 ms/s)');
    expect(describeSteal({ stolenMsPerSecond: NaN }, () => 'x')).toBe('');
  });
});
