/**
 * The order worker's state parts against a real OrderPlane, with a hash kept as Redis would keep it
 * (fields set and deleted as the parts say): after every capture the hash holds exactly the plane's
 * orders and the ring's live slots, found from the reports alone (no comparison of the whole
 * window), and restoring from it gives the plane it was taken from.
 */
import { describe, expect, it } from 'vitest';
import type { OrderIntent } from '../../../shared/domain/index.ts';
import { OrderPlane, PaperBroker, riskLimits, type OrderPlaneState } from '../../../shared/order-plane/index.ts';
import type { CapturedParts } from '../../../shared/workers/checkpoint.ts';
import { OrderParts, RING_CHUNK, RingParts, type RingExtent } from '../../../shared/workers/order-state.ts';
import { ACCOUNT, MINUTE, T0, bar, instrument, intent } from '../order-plane/fixtures.ts';

const WINDOW = 40;
const RING = 3 * RING_CHUNK + 100;

function apply(hash: Map<string, string>, parts: CapturedParts): void {
  if (parts.reset) hash.clear();
  for (const [k, v] of parts.set) hash.set(k, JSON.stringify(v));
  if (!parts.reset) for (const k of parts.del) hash.delete(k);
}

function newPlane(orders: OrderParts): OrderPlane {
  return new OrderPlane(
    { accountId: ACCOUNT, initialCash: 1e7, limits: riskLimits({ maxOrderNotional: 5_000 }), broker: { fillModel: 'next-bar-open', ringSize: RING }, instrument, dedupWindow: WINDOW },
    { execution: (r) => orders.reported(r.order), breach: () => undefined },
  );
}

/** The plane's state without the broker's event numbering (restarted by a restore). */
function comparable(s: OrderPlaneState): unknown {
  return { ...s, broker: { ...s.broker, symbols: s.broker.symbols.map(({ pushed: _p, ...x }: OrderPlaneState['broker']['symbols'][number] & { pushed?: number }) => x) } };
}

describe('order worker state parts', () => {
  it('keep the hash equal to the plane from its reports, and restore the plane', () => {
    const orderParts = new OrderParts();
    const ringParts = new RingParts();
    const plane = newPlane(orderParts);
    const orderHash = new Map<string, string>();
    const ringHash = new Map<string, string>();
    const sent: OrderIntent[] = [];
    let captures = 0;
    const check = () => {
      const snap = plane.snapshot();
      apply(orderHash, orderParts.capture(plane, snap.orders));
      const ring = ringParts.capture(snap.broker.symbols);
      apply(ringHash, ring.parts);
      captures++;
      expect([...orderHash.keys()].sort()).toEqual(snap.orders.map((o) => o.clientOrderId).sort());
      expect(ring.symbols.every((x) => x.slots.length === 0)).toBe(true);
      // The ring hash keeps only chunks that still hold live slots.
      expect(ringHash.size).toBeLessThanOrEqual(Math.ceil(RING / RING_CHUNK) + 1);

      const restoredParts = new OrderParts();
      const restored = newPlane(restoredParts);
      const symbols = new RingParts().restore(ring.symbols, ring.extents as Record<string, RingExtent>, Object.fromEntries(ringHash));
      restored.restore({ ...snap, orders: restoredParts.restore(Object.fromEntries(orderHash)), broker: { ...snap.broker, symbols } });
      expect(comparable(restored.snapshot())).toEqual(comparable(snap));
    };

    // Irregular gaps between captures, one longer than the ring; market orders, some limits that
    // rest and get cancelled, some rejected by the notional limit; past the dedup window many times.
    const gaps = [1, 7, 30, 2, RING + 17, 5, 600, 3, 1];
    let i = 0;
    for (const gap of [...gaps, ...gaps]) {
      for (let k = 0; k < gap; k++, i++) {
        const ts = T0 + i * MINUTE;
        plane.onMarket(bar(ts, 100, 101, 99, 100));
        if (i % 3 === 0) {
          const it = intent({ side: i % 2 ? 'sell' : 'buy', qty: i % 11 === 0 ? 100 : 1, ts: ts + 1, ...(i % 9 === 0 ? { type: 'limit' as const, limitPrice: 98.5, timeInForce: 'IOC' as const } : {}) });
          sent.push(it);
          plane.onIntent(it);
        }
      }
      check();
    }
    // A forgotten order's id sent again is refused (decided before the dedup horizon) and recorded anew.
    plane.onIntent(sent[0]);
    expect(plane.knownOrder(sent[0].clientOrderId)?.status).toBe('rejected');
    check();
    plane.onMarket(bar(T0 + i * MINUTE, 100, 101, 99, 100));
    check();

    expect(captures).toBe(2 * gaps.length + 2);
    expect(orderParts.fullScans).toBe(0);
    expect(plane.counts()).toMatchObject({ rejected: expect.any(Number), cancelled: expect.any(Number) });
    expect(plane.counts().rejected).toBeGreaterThan(1);
    expect(plane.counts().cancelled).toBeGreaterThan(0);
  });

  it('capture from a broker state holding only the slots since() asks for', () => {
    const broker = new PaperBroker({ fillModel: 'next-bar-open', ringSize: RING }, instrument, { fill: () => undefined, cancelled: () => undefined });
    const parts = new RingParts();
    const hash = new Map<string, string>();
    let i = 0;
    let partials = 0;
    for (const gap of [10, 700, 1, RING + 3, 515, 2]) {
      for (let k = 0; k < gap; k++, i++) broker.onMarket(bar(T0 + i * MINUTE, 100 + (i % 13), 101 + (i % 13), 99, 100));
      const since = parts.since();
      const partial = broker.state(since).symbols;
      if (partial[0].slots.length < (partial[0].held ?? 0)) partials++;
      const ring = parts.capture(partial);
      apply(hash, ring.parts);
      const restored = new RingParts().restore(ring.symbols, ring.extents, Object.fromEntries(hash));
      expect(restored[0].slots).toEqual(broker.state().symbols[0].slots);
    }
    expect(partials).toBe(3);
    // A state that starts after what the checkpoint needs is refused, not written with a hole.
    for (let k = 0; k < 10; k++, i++) broker.onMarket(bar(T0 + i * MINUTE, 100, 101, 99, 100));
    expect(() => parts.capture(broker.state({ AAA: broker.state().symbols[0].pushed ?? 0 }).symbols)).toThrow(/the state starts at event/);
  });

  it('restores ring chunks saved as rows of JSON numbers (checkpoints from before the binary chunks)', () => {
    const broker = new PaperBroker({ fillModel: 'next-bar-open', ringSize: RING }, instrument, { fill: () => undefined, cancelled: () => undefined });
    for (let i = 0; i < RING_CHUNK + 40; i++) broker.onMarket(bar(T0 + i * MINUTE, 100 + (i % 7) / 8, 101 + (i % 7), 99, 100.125));
    const ring = new RingParts().capture(broker.state().symbols);
    const binary = Object.fromEntries(ring.parts.set.map(([k, v]) => [k, JSON.stringify(v)]));
    const slots = broker.state().symbols[0].slots;
    const rows = Object.fromEntries(
      ring.parts.set.map(([k, v]) => {
        const { from } = v as { from: number };
        const mine = slots.slice(from, Math.min(slots.length, (Math.floor(from / RING_CHUNK) + 1) * RING_CHUNK));
        return [k, JSON.stringify({ from, slots: mine.map((s) => [s.ts, s.open, s.high, s.low, s.close, s.volume, s.bid, s.ask]) })];
      }),
    );
    expect(Object.values(binary).every((json) => json.includes('"f64"'))).toBe(true);
    for (const hash of [binary, rows]) expect(new RingParts().restore(ring.symbols, ring.extents, hash)[0].slots).toEqual(slots);
  });

  it('refuses a ring with a missing or truncated chunk rather than restoring a hole', () => {
    const parts = new RingParts();
    const plane = newPlane(new OrderParts());
    for (let i = 0; i < 2 * RING_CHUNK; i++) plane.onMarket(bar(T0 + i * MINUTE, 100, 101, 99, 100));
    const ring = parts.capture(plane.snapshot().broker.symbols);
    const hash = new Map(ring.parts.set.map(([k, v]) => [k, JSON.stringify(v)] as const));
    const [first, second] = [...hash.keys()];
    // A chunk cut short (half its bytes and a stray one) ...
    const cut = JSON.parse(hash.get(second) as string) as { from: number; f64: string };
    const truncated = new Map(hash).set(second, JSON.stringify({ ...cut, f64: Buffer.from(cut.f64, 'base64').subarray(0, (RING_CHUNK * 64) / 2 + 1).toString('base64') }));
    expect(() => new RingParts().restore(ring.symbols, ring.extents, Object.fromEntries(truncated))).toThrow(/missing from the saved ring/);
    // ... or missing.
    hash.delete(first);
    expect(() => new RingParts().restore(ring.symbols, ring.extents, Object.fromEntries(hash))).toThrow(/missing from the saved ring/);
  });
});
