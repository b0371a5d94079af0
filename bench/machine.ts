/**
 * What this machine charges for the two kinds of work the hot path does, recorded with every bench
 * run so that figures from different machines, or from the same VM on different days, can be
 * compared. Latency across the three workers depends on both:
 * - per tick: a fixed CPU task (a bar event's JSON written and read back);
 * - per wire message: a loopback wake-up. Every hop of the pipeline writes to a process that is
 *   usually asleep in its event loop; on a virtual machine waking it can cost far more than the
 *   write itself. Measured as the round trip of one small message, sent every millisecond to a
 *   child process that echoes it (so the child sleeps between messages, as a worker does).
 * And the three figures the hot-path issue quotes for the machine its latency targets were set on
 * (ISSUE_REFERENCE), measured the same way here: nats.js against a private Debian nats-server.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { StorageType, connect as connectNats } from 'nats';
import { startNatsServer } from '../test/helpers/nats-server.ts';
import { stealWatch } from './harness.ts';

const ROUND_TRIPS = 2_000;
const WARMUP_ROUND_TRIPS = 200;
const CPU_ROUNDS = 5;
const CPU_ITERATIONS = 100_000;
const NATS_REQUESTS = 5_000;
const NATS_PUBLISHES = 500_000;
const JS_PUBLISHES = 20_000;
const NATS_PAYLOAD_BYTES = 128;

/** What the hot-path issue measured "here" with nats.js against the Debian nats-server, next to its targets. */
export const ISSUE_REFERENCE = { requestReplyMs: { p50: 0.34, p99: 0.74 }, corePublishPerSecond: 800_000, jetStreamPublishPerSecond: 17_000, jetStreamInFlight: 100 } as const;

/** A peer process that echoes every chunk it reads, on a free loopback port it prints once listening. */
const ECHO_PEER = `
const server = require('node:net').createServer((s) => { s.setNoDelay(true); s.on('data', (b) => s.write(b)); });
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

export interface MachineProbe {
  /** Microseconds for a bar event's JSON round trip (stringify + parse), median of CPU_ROUNDS. */
  barJsonRoundTripUs: number;
  /** Loopback round trip to a process asleep between messages (two wake-ups), in microseconds. */
  wakeRoundTripUs: { p50: number; p99: number };
  /** The write call alone, sender side, in microseconds. */
  loopbackWriteUs: { p50: number; p99: number };
  /** The issue's three reference figures measured on this machine (see natsReference). */
  nats: { requestReplyMs: { p50: number; p99: number }; corePublishPerSecond: number; jetStreamPublishPerSecond: number };
  /** CPU the hypervisor gave elsewhere during the probe, ms per second over both cores (harness.ts stealWatch). */
  stolenMsPerSecond: number;
}

/** `scale`: 10 rounds to a tenth (µs figures), 100 to a hundredth (ms figures). */
function quantile(sorted: readonly number[], q: number, scale = 10): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] * scale) / scale;
}

function barJsonRoundTripUs(): number {
  const bar = { kind: 'bar', symbol: 'BENCH-USD', ts: 1_795_334_654_000_000, intervalUs: 1_000_000, open: 82.08, high: 82.09, low: 82.03, close: 82.04, volume: 54.1 };
  const rounds: number[] = [];
  let sink = 0;
  // Round 0 warms the JIT up and is not counted.
  for (let r = 0; r <= CPU_ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < CPU_ITERATIONS; i++) {
      bar.volume = i;
      sink += (JSON.parse(JSON.stringify(bar)) as { volume: number }).volume;
    }
    if (r > 0) rounds.push(((performance.now() - t0) * 1_000) / CPU_ITERATIONS);
  }
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return quantile(rounds.sort((a, b) => a - b), 0.5);
}

async function wakeRoundTrips(socket: Socket): Promise<{ rtt: number[]; write: number[] }> {
  const rtt: number[] = [];
  const write: number[] = [];
  const message = Buffer.alloc(64, 0x61);
  for (let i = 0; i < WARMUP_ROUND_TRIPS + ROUND_TRIPS; i++) {
    // The peer has been idle for a millisecond: it sleeps in epoll, as a worker between ticks does.
    await new Promise((r) => setTimeout(r, 1));
    const replied = once(socket, 'data');
    const t0 = performance.now();
    socket.write(message);
    const t1 = performance.now();
    await replied;
    const t2 = performance.now();
    if (i < WARMUP_ROUND_TRIPS) continue;
    write.push((t1 - t0) * 1_000);
    rtt.push((t2 - t0) * 1_000);
  }
  return { rtt: rtt.sort((a, b) => a - b), write: write.sort((a, b) => a - b) };
}

/**
 * Back-to-back core requests to an echoing subscriber on another connection; core publishes of
 * NATS_PAYLOAD_BYTES until the server has them all (flush); JetStream publishes to a memory stream,
 * each awaiting its ack, as many at a time as the issue had in flight. The server is the bench's
 * own (tests' launcher: GOMAXPROCS=1, as local mode runs it beside the workers).
 */
async function natsReference(): Promise<MachineProbe['nats']> {
  const server = await startNatsServer();
  // Stopped whatever fails: a server left running would load the cores of every later measurement.
  const connections = [];
  try {
    const requester = await connectNats({ servers: server.url });
    connections.push(requester);
    const responder = await connectNats({ servers: server.url });
    connections.push(responder);
    const payload = new Uint8Array(NATS_PAYLOAD_BYTES);
    responder.subscribe('probe.echo', { callback: (_err, msg) => msg.respond(msg.data) });
    await responder.flush();
    const rtt: number[] = [];
    for (let i = 0; i < WARMUP_ROUND_TRIPS + NATS_REQUESTS; i++) {
      const t0 = performance.now();
      await requester.request('probe.echo', payload);
      if (i >= WARMUP_ROUND_TRIPS) rtt.push(performance.now() - t0);
    }
    rtt.sort((a, b) => a - b);

    let t0 = performance.now();
    for (let i = 0; i < NATS_PUBLISHES; i++) requester.publish('probe.sink', payload);
    await requester.flush();
    const corePublishPerSecond = Math.round(NATS_PUBLISHES / ((performance.now() - t0) / 1_000));

    await (await requester.jetstreamManager()).streams.add({ name: 'PROBE', subjects: ['probe.js'], storage: StorageType.Memory });
    const js = requester.jetstream();
    t0 = performance.now();
    let next = 0;
    const publisher = async () => {
      while (next < JS_PUBLISHES) {
        next++;
        await js.publish('probe.js', payload);
      }
    };
    await Promise.all(Array.from({ length: ISSUE_REFERENCE.jetStreamInFlight }, publisher));
    const jetStreamPublishPerSecond = Math.round(JS_PUBLISHES / ((performance.now() - t0) / 1_000));
    return { requestReplyMs: { p50: quantile(rtt, 0.5, 100), p99: quantile(rtt, 0.99, 100) }, corePublishPerSecond, jetStreamPublishPerSecond };
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await server.stop();
  }
}

export async function probeMachine(): Promise<MachineProbe> {
  const peer = spawn(process.execPath, ['-e', ECHO_PEER], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const steal = stealWatch();
  try {
    const [line] = (await once(peer.stdout!, 'data')) as [Buffer];
    const socket = connect(Number(line.toString().trim()), '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    const { rtt, write } = await wakeRoundTrips(socket);
    socket.destroy();
    const nats = await natsReference();
    return {
      barJsonRoundTripUs: barJsonRoundTripUs(),
      wakeRoundTripUs: { p50: quantile(rtt, 0.5), p99: quantile(rtt, 0.99) },
      loopbackWriteUs: { p50: quantile(write, 0.5), p99: quantile(write, 0.99) },
      nats,
      stolenMsPerSecond: steal(),
    };
  } finally {
    peer.kill();
  }
}
