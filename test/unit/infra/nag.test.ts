import type { App } from 'aws-cdk-lib';
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
  it('reports no unacknowledged errors', () => {
    const stacks = buildTestApp(env, hotPath);
    const app = stacks.network.node.root as App;
    app.synth();
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const errors = report.violations
      .filter((v) => v.severity === 'error')
      .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(errors).toEqual([]);
    for (const stack of Object.values(stacks).filter((s) => typeof s === 'object' && 'templateOptions' in s)) {
      expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    }
  });
});
