import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { envConfig, hotPath, kafkaResourceArn } from '../../../infra/index.ts';
import { ConfigError } from '../../../shared/util/errors.ts';

describe('infra config', () => {
  it('rejects unknown environments and hot paths by name', () => {
    expect(() => envConfig('staging')).toThrow(ConfigError);
    expect(() => envConfig('staging')).toThrow(/"env" must be one of dev\|prod, got "staging"/);
    expect(() => hotPath('rabbit')).toThrow(/"hotPath" must be one of nats\|kafka/);
    expect(envConfig('prod').pointInTimeRecovery).toBe(true);
    expect(hotPath('kafka')).toBe('kafka');
  });

  it('derives topic and group ARNs from the cluster ARN', () => {
    const stack = new Stack(new App(), 'S');
    const arn = kafkaResourceArn('arn:aws:kafka:eu-west-1:123456789012:cluster/algoplanes-dev-hot/0a1b-2c3d-4', 'topic', 'md.raw');
    const resolved = JSON.stringify(stack.resolve(arn));
    expect(resolved).toContain(':topic/algoplanes-dev-hot/0a1b-2c3d-4/md.raw"');
    const group = JSON.stringify(stack.resolve(kafkaResourceArn('arn:aws:kafka:eu-west-1:123456789012:cluster/c/u-1', 'group', 'g1')));
    expect(group).toContain(':group/c/u-1/g1"');
  });
});
