import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Arn, ArnFormat, AssetHashType, Aws, DockerImage, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as msk from 'aws-cdk-lib/aws-msk';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { buildSync } from 'esbuild';
import type { Construct } from 'constructs';
import { ConfigError } from '../../shared/util/errors.ts';
import { KAFKA_TOPICS, functionName, type EnvConfig, type KafkaTopicName } from '../config.ts';
import { NATS_CLIENT_PORT } from './network.ts';

/** Pinned so every instance runs the same server; the tarball is checked against the release's SHA256SUMS. */
export const NATS_SERVER_VERSION = '2.10.22';
const NATS_DATA_DIR = '/var/lib/nats';
const BRIDGE_DIR = '/opt/algoplanes/bridge';

export interface MessagingProps extends StackProps {
  readonly config: EnvConfig;
  readonly vpc: ec2.IVpc;
  readonly brokerSecurityGroup: ec2.ISecurityGroup;
}

export interface NatsMessagingStackProps extends MessagingProps {
  /** TypeScript entry of the bridge service (shared/bridge), bundled by local esbuild into one file. */
  readonly bridgeEntry: string;
}

/**
 * NATS hot path: one t4g.small running nats-server with JetStream on an encrypted EBS volume, and the
 * bridge that pulls JetStream durable consumers and invokes the plane Lambdas, acking after success.
 */
export class NatsMessagingStack extends Stack {
  readonly instance: ec2.Instance;
  /** Reachable from the plane Lambdas' security group only. */
  readonly natsUrl: string;

  constructor(scope: Construct, id: string, props: NatsMessagingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const bridgeEntry = resolve(props.bridgeEntry);
    if (!existsSync(bridgeEntry)) {
      throw new ConfigError(`NATS bridge entry ${bridgeEntry} does not exist (context "bridgeEntry")`);
    }

    const bridgeBundle = new s3assets.Asset(this, 'BridgeBundle', {
      path: resolve(bridgeEntry, '..'),
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local esbuild always succeeds or throws, so synth needs no Docker.
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20'),
        local: {
          tryBundle(outputDir: string): boolean {
            buildSync({
              entryPoints: [bridgeEntry],
              outfile: join(outputDir, 'bridge.mjs'),
              bundle: true,
              platform: 'node',
              target: 'node20',
              format: 'esm',
              minify: true,
              sourcemap: true,
              // Bundled CommonJS dependencies still call require(); give ESM output one.
              banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
              logLevel: 'error',
            });
            return true;
          },
        },
      },
    });

    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'NATS server and bridge: SSM access, bridge bundle download, plane Lambda invoke',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    // Exactly the bundle object, rather than the asset grant's wildcard over the bootstrap bucket.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadBridgeBundle',
        actions: ['s3:GetObject'],
        resources: [`arn:${Aws.PARTITION}:s3:::${bridgeBundle.s3BucketName}/${bridgeBundle.s3ObjectKey}`],
      }),
    );
    const planeFunctions = (['data', 'strategy', 'order'] as const).map((plane) => functionName(config, plane));
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokePlaneLambdas',
        actions: ['lambda:InvokeFunction'],
        resources: planeFunctions.map((name) =>
          Arn.format({ service: 'lambda', resource: 'function', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, this),
        ),
      }),
    );

    const userData = ec2.UserData.forLinux();
    const bundlePath = userData.addS3DownloadCommand({ bucket: bridgeBundle.bucket, bucketKey: bridgeBundle.s3ObjectKey });
    userData.addCommands(
      ...natsUserData({
        serverName: `${config.prefix}-nats`,
        bundlePath,
        bridgeEnv: {
          NATS_URL: `nats://127.0.0.1:${NATS_CLIENT_PORT}`,
          AWS_REGION: Aws.REGION,
          DATA_FUNCTION_NAME: planeFunctions[0],
          STRATEGY_FUNCTION_NAME: planeFunctions[1],
          ORDER_FUNCTION_NAME: planeFunctions[2],
          POWERTOOLS_SERVICE_NAME: 'bridge',
          NODE_OPTIONS: '--enable-source-maps',
        },
      }),
    );

    this.instance = new ec2.Instance(this, 'NatsServer', {
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: 'private' },
      instanceType: new ec2.InstanceType('t4g.small'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      securityGroup: props.brokerSecurityGroup,
      role,
      userData,
      userDataCausesReplacement: true,
      requireImdsv2: true,
      detailedMonitoring: true,
      disableApiTermination: config.ec2TerminationProtection,
      blockDevices: [
        { deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(16, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) },
        {
          // JetStream store: survives instance replacement in prod.
          deviceName: '/dev/sdf',
          volume: ec2.BlockDeviceVolume.ebs(config.envName === 'prod' ? 100 : 20, {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: config.envName !== 'prod',
          }),
        },
      ],
    });
    this.natsUrl = `nats://${this.instance.instancePrivateIp}:${NATS_CLIENT_PORT}`;

    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'Session Manager replaces SSH (no key pairs, no inbound port); the AWS policy tracks SSM API changes',
    });
    if (!config.ec2TerminationProtection) {
      Validations.of(this.instance).acknowledge({
        id: 'AwsSolutions-EC29',
        reason: 'dev instance is disposable and replaced on user-data change; prod enables termination protection',
      });
    }
  }
}

/** Shell steps: mount the JetStream volume, install nats-server and the bridge, run both under systemd. */
export function natsUserData(opts: { serverName: string; bundlePath: string; bridgeEnv: Record<string, string> }): string[] {
  const tarball = `nats-server-v${NATS_SERVER_VERSION}-linux-arm64`;
  const release = `https://github.com/nats-io/nats-server/releases/download/v${NATS_SERVER_VERSION}`;
  const envFile = Object.entries(opts.bridgeEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  return [
    'set -euo pipefail',
    'dnf install -y nodejs20 unzip tar xfsprogs',
    // AL2023's udev rules expose the NVMe data volume under its block-device name.
    'for i in $(seq 1 60); do [ -e /dev/sdf ] && break; sleep 2; done',
    'blkid /dev/sdf || mkfs.xfs /dev/sdf',
    `mkdir -p ${NATS_DATA_DIR}`,
    `grep -q '${NATS_DATA_DIR}' /etc/fstab || echo '/dev/sdf ${NATS_DATA_DIR} xfs defaults,nofail 0 2' >> /etc/fstab`,
    'mount -a',
    `id nats || useradd --system --home-dir ${NATS_DATA_DIR} --shell /sbin/nologin nats`,
    `mkdir -p ${NATS_DATA_DIR}/jetstream /etc/nats && chown -R nats:nats ${NATS_DATA_DIR}`,
    `cd /tmp && curl -fsSLO ${release}/${tarball}.tar.gz && curl -fsSLO ${release}/SHA256SUMS`,
    'sha256sum --check --ignore-missing SHA256SUMS',
    `tar xzf ${tarball}.tar.gz && install -m 0755 ${tarball}/nats-server /usr/local/bin/nats-server`,
    `cat > /etc/nats/nats-server.conf <<'EOF'
server_name: ${opts.serverName}
listen: 0.0.0.0:${NATS_CLIENT_PORT}
http: 127.0.0.1:8222
jetstream {
  store_dir: ${NATS_DATA_DIR}/jetstream
  max_memory_store: 256MB
  max_file_store: 16GB
}
EOF`,
    `cat > /etc/systemd/system/nats-server.service <<'EOF'
[Unit]
Description=NATS server with JetStream
After=network-online.target local-fs.target
Wants=network-online.target
[Service]
User=nats
ExecStart=/usr/local/bin/nats-server -c /etc/nats/nats-server.conf
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
LimitNOFILE=65536
[Install]
WantedBy=multi-user.target
EOF`,
    'id algoplanes || useradd --system --no-create-home --shell /sbin/nologin algoplanes',
    `mkdir -p ${BRIDGE_DIR} /etc/algoplanes && unzip -o ${opts.bundlePath} -d ${BRIDGE_DIR}`,
    `cat > /etc/algoplanes/bridge.env <<'EOF'\n${envFile}\nEOF`,
    'NODE_BIN=$(command -v node-20 || command -v node)',
    `cat > /etc/systemd/system/algoplanes-bridge.service <<EOF
[Unit]
Description=algoplanes JetStream to Lambda bridge
After=nats-server.service
Requires=nats-server.service
[Service]
User=algoplanes
EnvironmentFile=/etc/algoplanes/bridge.env
ExecStart=$NODE_BIN ${BRIDGE_DIR}/bridge.mjs
Restart=always
RestartSec=2
[Install]
WantedBy=multi-user.target
EOF`,
    'systemctl daemon-reload',
    'systemctl enable --now nats-server.service algoplanes-bridge.service',
  ];
}

export type KafkaMessagingStackProps = MessagingProps;

/** Kafka hot path: MSK Serverless with IAM auth, and the contract's topics. */
export class KafkaMessagingStack extends Stack {
  readonly cluster: msk.CfnServerlessCluster;
  readonly clusterName: string;

  constructor(scope: Construct, id: string, props: KafkaMessagingStackProps) {
    super(scope, id, props);
    this.clusterName = `${props.config.prefix}-hot`;
    this.cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
      clusterName: this.clusterName,
      clientAuthentication: { sasl: { iam: { enabled: true } } },
      vpcConfigs: [
        {
          subnetIds: props.vpc.selectSubnets({ subnetGroupName: 'private' }).subnetIds,
          securityGroups: [props.brokerSecurityGroup.securityGroupId],
        },
      ],
    });
    for (const topic of KAFKA_TOPICS) {
      new msk.CfnTopic(this, `Topic-${topic.name}`, {
        clusterArn: this.cluster.attrArn,
        topicName: topic.name,
        partitionCount: topic.partitions,
        replicationFactor: 3,
        configs: Buffer.from(`retention.ms=${topic.retention.toMilliseconds()}`).toString('base64'),
      });
    }
  }
}

/**
 * IAM resource ARNs inside an MSK cluster. A cluster ARN is `arn:...:cluster/<name>/<uuid>`; topics and
 * groups share the name and uuid, so grants can name the exact topic and consumer group.
 */
export function kafkaResourceArn(clusterArn: string, kind: 'topic' | 'group', name: string): string {
  const parts = Fn.split('/', clusterArn, 3);
  return `arn:${Aws.PARTITION}:kafka:${Aws.REGION}:${Aws.ACCOUNT_ID}:${kind}/${Fn.select(1, parts)}/${Fn.select(2, parts)}/${name}`;
}

/** Least-privilege IAM for a plane that consumes `read` topics in `group` and produces to `write` topics. */
export function kafkaClientStatements(
  clusterArn: string,
  access: { read: readonly KafkaTopicName[]; write: readonly KafkaTopicName[]; group: string },
): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
      resources: [clusterArn],
    }),
    new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
      resources: [kafkaResourceArn(clusterArn, 'group', access.group)],
    }),
  ];
  if (access.read.length) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        resources: access.read.map((t) => kafkaResourceArn(clusterArn, 'topic', t)),
      }),
    );
  }
  if (access.write.length) {
    statements.push(
      new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        resources: access.write.map((t) => kafkaResourceArn(clusterArn, 'topic', t)),
      }),
    );
  }
  return statements;
}
