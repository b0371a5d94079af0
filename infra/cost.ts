/**
 * Monthly cost of the AWS deployment at a given tick rate, for each hot path, from list prices.
 * `npx tsx infra/cost.ts` prints the README's cost table with every input, so the arithmetic can be
 * checked and redone with other prices or batch sizes.
 */

/** us-east-1 on-demand list prices (USD) used for the table; check the AWS pricing pages before relying on them. */
export const PRICES = {
  hoursPerMonth: 730,
  lambdaGbSecondArm: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  sqsFifoPerMillionRequests: 0.5,
  dynamoPerMillionWrites: 0.625,
  elasticacheServerlessGbHour: 0.125,
  kinesisStreamHour: 0.04,
  kinesisPerGbIn: 0.08,
  kinesisPerGbOut: 0.04,
  ec2T4gSmallHour: 0.0168,
  ec2C7gLargeHour: 0.0725,
  ebsGp3GbMonth: 0.08,
  mskServerlessClusterHour: 0.75,
  mskServerlessPartitionHour: 0.0015,
  mskServerlessPerGbIn: 0.1,
  mskServerlessPerGbOut: 0.05,
} as const;

/** The batch sizes and shapes the stacks are configured with (see infra/stacks). */
export const WORKLOAD = {
  secondsPerMonth: 30 * 86_400,
  /** Ticks per Lambda invocation for the data and strategy planes (Kinesis/MSK batch, bridge batch). */
  ticksPerInvocation: 100,
  /** Ticks packed into one Kinesis record (records are billed in 1 KB units). */
  ticksPerKinesisRecord: 5,
  bytesPerTick: 200,
  /** Lambda duration and memory per batch of ticks. */
  batchMs: 20,
  memoryGb: 0.5,
  /** Order intents per tick (signals are rare next to ticks). */
  intentsPerTick: 0.01,
  /** SQS requests per intent: send, receive, delete. */
  sqsRequestsPerIntent: 3,
  /**
   * DynamoDB write request units per filled order (items under 1 KB; a transaction bills 2 per item):
   * claim 1, reservation transaction (exposure + daily-loss check) 4, stage 1, fill transaction
   * (fill + position + day PnL) 6, settle 1, final stage 1, audit 1.
   */
  dynamoWritesPerOrder: 15,
  orderInvocationMs: 50,
  redisGb: 1,
  /** Kafka partitions across md.raw, md.events, strat.intents and ord.executions. */
  kafkaPartitions: 20,
  /** Kafka topics each tick is written to and read from (md.raw, md.events). */
  kafkaTopicsPerTick: 2,
  natsVolumeGb: 20,
  /** A t4g.small's burstable CPU carries JetStream up to about this rate; above it a c7g.large. */
  natsSmallInstanceMaxTicks: 2_000,
} as const;

export interface CostLine {
  item: string;
  usd: number;
  arithmetic: string;
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(2));

/** Costs every deployment pays whichever hot path it uses. */
export function sharedCosts(ticksPerSecond: number, p = PRICES, w = WORKLOAD): CostLine[] {
  const ticks = ticksPerSecond * w.secondsPerMonth;
  const invocations = (2 * ticks) / w.ticksPerInvocation;
  const intents = ticks * w.intentsPerTick;
  const records = ticks / w.ticksPerKinesisRecord;
  const recordKb = Math.ceil((w.ticksPerKinesisRecord * w.bytesPerTick) / 1024);
  const kinesisGb = (records * recordKb) / 2 ** 20;
  return [
    {
      item: 'Lambda data+strategy',
      usd: (invocations / 1e6) * p.lambdaPerMillionRequests + invocations * (w.batchMs / 1000) * w.memoryGb * p.lambdaGbSecondArm,
      arithmetic: `${fmt(invocations)} invocations x ($${p.lambdaPerMillionRequests}/M + ${w.batchMs} ms x ${w.memoryGb} GB x $${p.lambdaGbSecondArm}/GB-s)`,
    },
    {
      item: 'Lambda order',
      usd: (intents / 1e6) * p.lambdaPerMillionRequests + intents * (w.orderInvocationMs / 1000) * w.memoryGb * p.lambdaGbSecondArm,
      arithmetic: `${fmt(intents)} intents x ($${p.lambdaPerMillionRequests}/M + ${w.orderInvocationMs} ms x ${w.memoryGb} GB x $${p.lambdaGbSecondArm}/GB-s)`,
    },
    {
      item: 'SQS FIFO intents',
      usd: ((intents * w.sqsRequestsPerIntent) / 1e6) * p.sqsFifoPerMillionRequests,
      arithmetic: `${fmt(intents)} intents x ${w.sqsRequestsPerIntent} requests x $${p.sqsFifoPerMillionRequests}/M`,
    },
    {
      item: 'DynamoDB writes',
      usd: ((intents * w.dynamoWritesPerOrder) / 1e6) * p.dynamoPerMillionWrites,
      arithmetic: `${fmt(intents)} orders x ${w.dynamoWritesPerOrder} writes x $${p.dynamoPerMillionWrites}/M`,
    },
    {
      item: 'ElastiCache Serverless',
      usd: w.redisGb * p.elasticacheServerlessGbHour * p.hoursPerMonth,
      arithmetic: `${w.redisGb} GB minimum x $${p.elasticacheServerlessGbHour}/GB-h x ${p.hoursPerMonth} h`,
    },
    {
      item: 'Kinesis (ingest + events)',
      usd: 2 * (p.kinesisStreamHour * p.hoursPerMonth + kinesisGb * (p.kinesisPerGbIn + p.kinesisPerGbOut)),
      arithmetic: `2 streams x ($${p.kinesisStreamHour}/h x ${p.hoursPerMonth} h + ${fmt(kinesisGb)} GB x $${p.kinesisPerGbIn + p.kinesisPerGbOut}/GB), ${w.ticksPerKinesisRecord} ticks per ${recordKb} KB record`,
    },
  ];
}

export function natsCosts(ticksPerSecond: number, p = PRICES, w = WORKLOAD): CostLine[] {
  const small = ticksPerSecond <= w.natsSmallInstanceMaxTicks;
  const hourly = small ? p.ec2T4gSmallHour : p.ec2C7gLargeHour;
  return [
    {
      item: `EC2 ${small ? 't4g.small' : 'c7g.large'} (nats-server + bridge)`,
      usd: hourly * p.hoursPerMonth,
      arithmetic: `$${hourly}/h x ${p.hoursPerMonth} h`,
    },
    { item: 'EBS gp3 (JetStream)', usd: w.natsVolumeGb * p.ebsGp3GbMonth, arithmetic: `${w.natsVolumeGb} GB x $${p.ebsGp3GbMonth}/GB-month` },
  ];
}

export function kafkaCosts(ticksPerSecond: number, p = PRICES, w = WORKLOAD): CostLine[] {
  const gb = (ticksPerSecond * w.secondsPerMonth * w.bytesPerTick * w.kafkaTopicsPerTick) / 2 ** 30;
  return [
    { item: 'MSK Serverless cluster', usd: p.mskServerlessClusterHour * p.hoursPerMonth, arithmetic: `$${p.mskServerlessClusterHour}/h x ${p.hoursPerMonth} h` },
    {
      item: 'MSK partitions',
      usd: w.kafkaPartitions * p.mskServerlessPartitionHour * p.hoursPerMonth,
      arithmetic: `${w.kafkaPartitions} x $${p.mskServerlessPartitionHour}/h x ${p.hoursPerMonth} h`,
    },
    {
      item: 'MSK data in + out',
      usd: gb * (p.mskServerlessPerGbIn + p.mskServerlessPerGbOut),
      arithmetic: `${fmt(gb)} GB x ($${p.mskServerlessPerGbIn} + $${p.mskServerlessPerGbOut})/GB`,
    },
  ];
}

const total = (lines: readonly CostLine[]) => lines.reduce((s, l) => s + l.usd, 0);

export function monthlyTotals(ticksPerSecond: number): { shared: number; nats: number; kafka: number } {
  const shared = total(sharedCosts(ticksPerSecond));
  return { shared, nats: shared + total(natsCosts(ticksPerSecond)), kafka: shared + total(kafkaCosts(ticksPerSecond)) };
}

export function costTableMarkdown(rates: readonly number[] = [10, 1_000, 10_000]): string {
  const out: string[] = [];
  out.push(`| | ${rates.map((r) => `${r.toLocaleString('en-US')} ticks/s`).join(' | ')} |`);
  out.push(`|---|${rates.map(() => '---:').join('|')}|`);
  const rows = (label: string, f: (r: number) => CostLine[]) => {
    const first = f(rates[0]);
    first.forEach((line, i) => out.push(`| ${label}: ${line.item} | ${rates.map((r) => `$${fmt(f(r)[i].usd)}`).join(' | ')} |`));
  };
  rows('shared', sharedCosts);
  rows('nats', natsCosts);
  rows('kafka', kafkaCosts);
  out.push(`| **total, NATS hot path** | ${rates.map((r) => `**$${fmt(monthlyTotals(r).nats)}**`).join(' | ')} |`);
  out.push(`| **total, Kafka (MSK Serverless) hot path** | ${rates.map((r) => `**$${fmt(monthlyTotals(r).kafka)}**`).join(' | ')} |`);
  out.push('', 'Arithmetic at 1,000 ticks/s:', '');
  for (const line of [...sharedCosts(1_000), ...natsCosts(1_000), ...kafkaCosts(1_000)]) out.push(`- ${line.item}: ${line.arithmetic} = $${fmt(line.usd)}`);
  return out.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(costTableMarkdown() + '\n');
