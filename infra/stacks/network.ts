import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { EnvConfig, HotPath } from '../config.ts';

export interface NetworkStackProps extends StackProps {
  readonly config: EnvConfig;
  readonly hotPath: HotPath;
}

export const REDIS_PORT = 6379;
export const NATS_CLIENT_PORT = 4222;
/** MSK Serverless only offers SASL/IAM over TLS, on this port. */
export const MSK_IAM_PORT = 9098;

/**
 * VPC and every security group, so rules between groups live in one stack and no other stack
 * has to reference another's group (which would create dependency cycles).
 */
export class NetworkStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly lambdaSecurityGroup: ec2.SecurityGroup;
  readonly cacheSecurityGroup: ec2.SecurityGroup;
  readonly brokerSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs: 2,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });

    this.lambdaSecurityGroup = new ec2.SecurityGroup(this, 'LambdaSg', {
      vpc: this.vpc,
      description: 'Plane Lambdas: no inbound, outbound to AWS APIs, cache and broker',
      allowAllOutbound: true,
    });
    this.cacheSecurityGroup = new ec2.SecurityGroup(this, 'CacheSg', {
      vpc: this.vpc,
      description: 'ElastiCache Serverless: Redis from plane Lambdas only',
      allowAllOutbound: false,
    });
    this.cacheSecurityGroup.addIngressRule(this.lambdaSecurityGroup, ec2.Port.tcp(REDIS_PORT), 'Redis TLS from Lambdas');
    // ElastiCache Serverless also listens on port+1 for read-from-replica connections.
    this.cacheSecurityGroup.addIngressRule(this.lambdaSecurityGroup, ec2.Port.tcp(REDIS_PORT + 1), 'Redis reader endpoint from Lambdas');

    this.brokerSecurityGroup = new ec2.SecurityGroup(this, 'BrokerSg', {
      vpc: this.vpc,
      description: props.hotPath === 'nats' ? 'NATS server: clients from plane Lambdas' : 'MSK Serverless: IAM clients from Lambdas and event source pollers',
      allowAllOutbound: true,
    });
    if (props.hotPath === 'nats') {
      this.brokerSecurityGroup.addIngressRule(this.lambdaSecurityGroup, ec2.Port.tcp(NATS_CLIENT_PORT), 'NATS clients from Lambdas');
    } else {
      this.brokerSecurityGroup.addIngressRule(this.lambdaSecurityGroup, ec2.Port.tcp(MSK_IAM_PORT), 'Kafka IAM from Lambdas');
      // Lambda's MSK pollers run in the cluster's subnets with the cluster's group and must reach the brokers.
      this.brokerSecurityGroup.addIngressRule(this.brokerSecurityGroup, ec2.Port.tcp(MSK_IAM_PORT), 'Kafka IAM from event source pollers');
    }

    if (config.interfaceEndpoints) this.addInterfaceEndpoints([this.lambdaSecurityGroup, this.brokerSecurityGroup]);
  }

  private addInterfaceEndpoints(clients: ec2.ISecurityGroup[]): void {
    const endpointSg = new ec2.SecurityGroup(this, 'EndpointSg', {
      vpc: this.vpc,
      description: 'Interface endpoints: HTTPS from plane Lambdas and the broker host',
      allowAllOutbound: false,
    });
    for (const client of clients) endpointSg.addIngressRule(client, ec2.Port.tcp(443), 'HTTPS to AWS APIs');
    const endpoints = {
      Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
      Kinesis: ec2.InterfaceVpcEndpointAwsService.KINESIS_STREAMS,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
    };
    for (const [name, service] of Object.entries(endpoints)) {
      this.vpc.addInterfaceEndpoint(name, { service, privateDnsEnabled: true, securityGroups: [endpointSg], open: false });
    }
  }

  get privateSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }
}
