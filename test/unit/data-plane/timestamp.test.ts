import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { daysFromCivil, parseTimestamp } from '../../../shared/data-plane/index.ts';
import { ValidationError } from '../../../shared/util/errors.ts';

const ms = (iso: string) => Date.parse(iso) * 1000;

describe('parseTimestamp', () => {
  it('reads ISO dates and date-times with space or T, fractions and offsets', () => {
    expect(parseTimestamp('1995-01-03')).toBe(ms('1995-01-03T00:00:00Z'));
    expect(parseTimestamp('2021-12-31 23:01:00.000000')).toBe(ms('2021-12-31T23:01:00Z'));
    expect(parseTimestamp('2021-12-31T23:01:00')).toBe(ms('2021-12-31T23:01:00Z'));
    expect(parseTimestamp('2021-12-31T23:01:00.250Z')).toBe(ms('2021-12-31T23:01:00.250Z'));
    expect(parseTimestamp('2021-12-31T23:01:00z')).toBe(ms('2021-12-31T23:01:00Z'));
    expect(parseTimestamp('2024-02-29 12:34')).toBe(ms('2024-02-29T12:34:00Z'));
    expect(parseTimestamp('2013-01-01 22:00:00.295000+00:00')).toBe(ms('2013-01-01T22:00:00.295Z'));
    expect(parseTimestamp('2020-06-01T10:00:00.5Z')).toBe(ms('2020-06-01T10:00:00.500Z'));
    expect(parseTimestamp('2020-06-01T10:00:00.123456789Z')).toBe(ms('2020-06-01T10:00:00.123Z') + 456);
    expect(parseTimestamp('2020-06-01T10:00:00+02:00')).toBe(ms('2020-06-01T08:00:00Z'));
    expect(parseTimestamp('2020-06-01T10:00:00-0530')).toBe(ms('2020-06-01T15:30:00Z'));
    expect(parseTimestamp('  2020-06-01  ')).toBe(ms('2020-06-01T00:00:00Z'));
  });

  it('picks the epoch unit from the digit count', () => {
    expect(parseTimestamp('1667346579')).toBe(1_667_346_579_000_000); // s
    expect(parseTimestamp('1667346579.25')).toBe(1_667_346_579_250_000); // s with fraction
    expect(parseTimestamp('1667346579146')).toBe(1_667_346_579_146_000); // ms
    expect(parseTimestamp('1598918403696000')).toBe(1_598_918_403_696_000); // µs
    expect(parseTimestamp('1610064000278123456')).toBe(1_610_064_000_278_123); // ns, truncated to µs
  });

  it.each([
    ['', 'empty'],
    ['yesterday', 'ISO-8601'],
    ['2021-13-01', 'month 13'],
    ['2021-02-29', 'day 29'],
    ['2021-01-01 24:00:00', 'out of range'],
    ['2021-01-01 10:00:00.', 'empty fraction'],
    ['2021-01-01 10:00:00.Z', 'empty fraction'],
    ['2021-01-01 10:00:00ZZ', 'after Z'],
    ['2021-01-01 10:00:00.1234567890', '10 digits'],
    ['2021-01-01 10:00:00+25:00', 'offset'],
    ['2021-01-01 10:00:00 UTC', 'unexpected'],
    ['1969-12-31', 'after 1970'],
    ['0', 'after 1970'],
    ['12345678901234567890', '20 digits'],
    ['-1667346579', 'ISO-8601'],
    ['1667346579x', 'unexpected'],
  ])('rejects %j with a reason (%s)', (text, reason) => {
    expect(() => parseTimestamp(text)).toThrow(ValidationError);
    expect(() => parseTimestamp(text)).toThrow(reason);
  });

  it('agrees with Date for every second-resolution date-time 1970-2200', () => {
    const min = Date.UTC(1970, 0, 1, 0, 0, 1);
    const max = Date.UTC(2200, 0, 1);
    fc.assert(
      fc.property(fc.integer({ min: min / 1000, max: max / 1000 }), fc.integer({ min: 0, max: 999_999 }), (seconds, micros) => {
        const iso = new Date(seconds * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
        const text = `${iso.replace('T', ' ')}.${String(micros).padStart(6, '0')}`;
        expect(parseTimestamp(text)).toBe(seconds * 1_000_000 + micros);
      }),
      { numRuns: 2000 },
    );
  });

  it('daysFromCivil counts days since 1970-01-01', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(2000, 3, 1)).toBe(Date.UTC(2000, 2, 1) / 86_400_000);
    expect(daysFromCivil(2100, 2, 28)).toBe(Date.UTC(2100, 1, 28) / 86_400_000);
  });
});
