import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../../../shared/backtest/in-process-bus.ts';

type Topics = { a: number; b: string };

describe('InProcessBus', () => {
  it('delivers to subscribers in subscription order', () => {
    const bus = new InProcessBus<Topics>();
    const seen: string[] = [];
    bus.subscribe('a', (n) => seen.push(`first:${n}`));
    bus.subscribe('a', (n) => seen.push(`second:${n}`));
    bus.publish('a', 1);
    expect(seen).toEqual(['first:1', 'second:1']);
  });

  it('runs each delivery to completion before messages published during it', () => {
    const bus = new InProcessBus<Topics>();
    const seen: string[] = [];
    bus.subscribe('a', (n) => {
      seen.push(`a-start:${n}`);
      bus.publish('b', `from-${n}`);
      seen.push(`a-end:${n}`);
    });
    bus.subscribe('a', (n) => seen.push(`a2:${n}`));
    bus.subscribe('b', (s) => seen.push(`b:${s}`));
    bus.publish('a', 7);
    expect(seen).toEqual(['a-start:7', 'a-end:7', 'a2:7', 'b:from-7']);
    expect(bus.messageCount()).toBe(2);
  });

  it('keeps working after a handler throws', () => {
    const bus = new InProcessBus<Topics>();
    const seen: number[] = [];
    let fail = true;
    bus.subscribe('a', (n) => {
      if (fail) throw new Error('boom');
      seen.push(n);
    });
    expect(() => bus.publish('a', 1)).toThrow('boom');
    fail = false;
    bus.publish('a', 2);
    expect(seen).toEqual([2]);
  });
});
