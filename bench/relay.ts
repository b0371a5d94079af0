/**
 * One stage of the transport floor (floor.ts): forwards every message from one core NATS subject to
 * the next, bytes untouched. No decoding, no JetStream, no acks, no state: what is left is the cost
 * of a process receiving and sending on loopback through nats-server. SPIN_US_PER_TICK, if given,
 * keeps the CPU busy that long per envelope in the message before forwarding it: a stand-in for a
 * plane's work, to see how the tail grows with it.
 */
import { connect } from 'nats';

const [url, from, to, spin = '0'] = process.argv.slice(2);
const spinUsPerTick = Number(spin);
if (!url || !from || !to || !(spinUsPerTick >= 0)) {
  process.stderr.write('usage: relay.ts NATS_URL FROM_SUBJECT TO_SUBJECT [SPIN_US_PER_TICK]\n');
  process.exit(2);
}
const TRACE_KEY = Buffer.from('"trace_id"');

function ticksIn(data: Uint8Array): number {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let n = 0;
  for (let i = bytes.indexOf(TRACE_KEY); i >= 0; i = bytes.indexOf(TRACE_KEY, i + TRACE_KEY.length)) n++;
  return n;
}

function spinFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const nc = await connect({ servers: url, name: `floor relay ${from}` });
nc.subscribe(from, {
  callback: (_err, m) => {
    if (spinUsPerTick > 0) spinFor((ticksIn(m.data) * spinUsPerTick) / 1_000);
    nc.publish(to, m.data);
  },
});
await nc.flush();
process.stdout.write('relay ready\n');
process.once('SIGTERM', () => void nc.drain().finally(() => process.exit(0)));
