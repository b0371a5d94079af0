import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from './helpers.ts';

describe.each([
  ['dev', 'nats'],
  ['dev', 'kafka'],
  ['prod', 'nats'],
  ['prod', 'kafka'],
] as const)('cdk-nag AwsSolutions (%s, %s)', (env, hotPath) => {
  it('synthesizes with the AwsSolutions plugin registered and leaves no unacknowledged error', () => {
    const stacks = buildTestApp(env, hotPath, { nag: true });
    const app = stacks.network.node.root as App;
    // The plugin runs during synthesis and aborts it when a finding is not acknowledged.
    expect(() => app.synth()).not.toThrow();

    const report = new AwsSolutionsChecks(app).validateScope(app);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(errors).toEqual([]);
    const all: Stack[] = [stacks.network, stacks.messaging, stacks.storage, stacks.ingestion, stacks.planes, stacks.backtests, stacks.observability];
    for (const stack of all) {
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    }
  });
});

describe('cdk-nag harness', () => {
  it('reports an unacknowledged finding, so an empty list above means something', () => {
    const app = new App();
    new s3.Bucket(new Stack(app, 'Probe'), 'Unlogged');
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.filter((v) => v.severity === 'error').map((v) => v.ruleName)).toContain('AwsSolutions-S1');
  });
});
