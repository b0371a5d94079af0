import { describe, expect, it } from 'vitest';
import { costTableMarkdown, kafkaCosts, monthlyTotals, natsCosts, PRICES, sharedCosts, WORKLOAD } from '../../../infra/cost.ts';

describe('README cost table', () => {
  it('adds up its lines', () => {
    for (const rate of [10, 1_000, 10_000]) {
      const sum = (lines: { usd: number }[]) => lines.reduce((s, l) => s + l.usd, 0);
      const totals = monthlyTotals(rate);
      expect(totals.nats).toBeCloseTo(sum(sharedCosts(rate)) + sum(natsCosts(rate)), 9);
      expect(totals.kafka).toBeCloseTo(sum(sharedCosts(rate)) + sum(kafkaCosts(rate)), 9);
    }
  });

  it('prices Lambda by invocations and GB-seconds', () => {
    const lambda = sharedCosts(1_000)[0];
    const invocations = (2 * 1_000 * WORKLOAD.secondsPerMonth) / WORKLOAD.ticksPerInvocation;
    expect(lambda.usd).toBeCloseTo(invocations * 0.2e-6 + invocations * 0.02 * 0.5 * PRICES.lambdaGbSecondArm, 9);
  });

  it('moves NATS to a larger instance above the small one\'s capacity, and MSK has a fixed floor', () => {
    expect(natsCosts(WORKLOAD.natsSmallInstanceMaxTicks)[0].item).toContain('t4g.small');
    expect(natsCosts(WORKLOAD.natsSmallInstanceMaxTicks + 1)[0].item).toContain('c7g.large');
    expect(kafkaCosts(0)[0].usd).toBeCloseTo(PRICES.mskServerlessClusterHour * PRICES.hoursPerMonth, 9);
    expect(costTableMarkdown()).toContain('| **total, NATS hot path** |');
  });
});
