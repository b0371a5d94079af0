import { describe, expect, it } from 'vitest';
import { cpus } from 'node:os';
import { stealWatch, stolenSeconds } from '../../../bench/harness.ts';

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
