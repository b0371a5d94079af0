import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { AlgoplanesStacks } from '../../../infra/index.ts';
import { buildTestApp } from './helpers.ts';

function countEverywhere(stacks: AlgoplanesStacks, type: string): number {
  return Object.values(stacks)
    .filter((s): s is Stack => s instanceof Stack)
    .reduce((n, s) => n + Object.keys(Template.fromStack(s).findResources(type)).length, 0);
}

describe('messaging stack, nats hot path', () => {
  const stacks = buildTestApp('dev', 'nats');
  const template = Template.fromStack(stacks.messaging);

  it('runs one arm64 t4g.small with IMDSv2 and every EBS volume encrypted, JetStream on its own volume', () => {
    template.resourceCountIs('AWS::EC2::Instance', 1);
    template.hasResourceProperties('AWS::EC2::Instance', {
      InstanceType: 't4g.small',
      ImageId: { Ref: Match.stringLikeRegexp('al2023.*arm64') },
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) },
        { DeviceName: '/dev/sdf', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) },
      ],
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } });
  });

  it('installs nats-server with JetStream and the bridge under systemd', () => {
    const instance = Object.values(template.findResources('AWS::EC2::Instance'))[0] as { Properties: { UserData: unknown } };
    const script = JSON.stringify(Stack.of(stacks.messaging).resolve(instance.Properties.UserData));
    expect(script).toContain('nats-server-v2.10.22-linux-arm64.tar.gz');
    expect(script).toContain('sha256sum --check');
    expect(script).toContain('jetstream {');
    expect(script).toContain('store_dir: /var/lib/nats/jetstream');
    expect(script).toContain('mkfs.xfs /dev/sdf');
    expect(script).toContain('systemctl enable --now nats-server.service algoplanes-bridge.service');
    expect(script).toContain('DATA_FUNCTION_NAME=algoplanes-dev-data');
  });

  it('lets the bridge invoke exactly the three plane functions', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'InvokePlaneLambdas',
            Action: 'lambda:InvokeFunction',
            Resource: ['data', 'strategy', 'order'].map((p) => ({
              'Fn::Join': ['', Match.arrayWith([`:function:algoplanes-dev-${p}`])],
            })),
          }),
        ]),
      },
    });
  });

  it('opens NATS to the Lambda security group only', () => {
    Template.fromStack(stacks.network).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 4222,
      ToPort: 4222,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LambdaSg'), 'GroupId'] },
    });
  });

  it('creates no MSK resources', () => {
    expect(countEverywhere(stacks, 'AWS::MSK::ServerlessCluster')).toBe(0);
    expect(countEverywhere(stacks, 'AWS::MSK::Topic')).toBe(0);
  });
});

describe('messaging stack, kafka hot path', () => {
  const stacks = buildTestApp('dev', 'kafka');
  const template = Template.fromStack(stacks.messaging);

  it('runs MSK Serverless with IAM auth in the private subnets', () => {
    template.hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClusterName: 'algoplanes-dev-hot',
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [{ SubnetIds: Match.anyValue(), SecurityGroups: [Match.anyValue()] }],
    });
  });

  it('creates the contract topics with their partitions and retention', () => {
    const topics = Object.values(template.findResources('AWS::MSK::Topic')).map((t) => {
      const p = (t as { Properties: { TopicName: string; PartitionCount: number; Configs: string } }).Properties;
      return [p.TopicName, p.PartitionCount, Buffer.from(p.Configs, 'base64').toString()];
    });
    expect(topics.sort()).toEqual([
      ['md.events', 8, 'retention.ms=86400000'],
      ['md.raw', 8, 'retention.ms=86400000'],
      ['ord.executions', 4, 'retention.ms=2592000000'],
      ['strat.intents', 4, 'retention.ms=604800000'],
    ]);
  });

  it('creates no EC2 instance', () => {
    expect(countEverywhere(stacks, 'AWS::EC2::Instance')).toBe(0);
  });
});
