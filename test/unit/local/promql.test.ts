import { describe, expect, it } from 'vitest';
import { metricNames } from './promql.ts';

describe('metricNames (PromQL selector extraction)', () => {
  it('finds the selector inside functions and aggregations, not the function, label or grouping names', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, stage) (rate(algoplanes_stage_latency_seconds_bucket{stage=~"x.*"}[5m]))) > 0.005')).toEqual([
      'algoplanes_stage_latency_seconds_bucket',
    ]);
  });

  it('finds every operand of a binary expression and ignores keywords and label values', () => {
    expect(metricNames('sum(rate(a_total{reason="or by"}[1m])) / on (job) group_left b_gauge * 60 or vector(0)').sort()).toEqual(['a_total', 'b_gauge']);
  });

  it('keeps a bare selector', () => {
    expect(metricNames('up{job=~"algoplanes-.*"} == 0')).toEqual(['up']);
  });
});
