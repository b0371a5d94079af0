import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../shared/config/defaults.ts';
import { riskLimitsFromEnv, RiskLimitsSchema } from '../../../shared/order-plane/index.ts';
import { ConfigError } from '../../../shared/util/errors.ts';

describe('risk limits', () => {
  it('defaults come from DEFAULTS.risk and live trading is off', () => {
    const l = riskLimitsFromEnv({});
    expect(l.maxPositionQty).toBe(DEFAULTS.risk.maxPositionQty);
    expect(l.maxDailyLoss).toBe(DEFAULTS.risk.maxDailyLoss);
    expect(l.priceCollarPct).toBe(DEFAULTS.risk.priceCollarPct);
    expect(l.enableLiveTrading).toBe(false);
    expect(RiskLimitsSchema.parse({})).toEqual(l);
  });

  it('reads every variable', () => {
    const l = riskLimitsFromEnv({
      MAX_POSITION_SIZE: '10',
      MAX_POSITION_NOTIONAL: '1e4',
      MAX_GROSS_EXPOSURE: '20000',
      MAX_NET_EXPOSURE: '15000',
      MAX_DAILY_LOSS: '500',
      MAX_ORDER_NOTIONAL: '2500.5',
      PRICE_COLLAR_PCT: '0.05',
      MAX_ORDERS_PER_SECOND: '3',
      RESTRICTED_SYMBOLS: ' GME, AMC ,,',
      ENABLE_LIVE_TRADING: 'true',
    });
    expect(l).toMatchObject({
      maxPositionQty: 10,
      maxPositionNotional: 10_000,
      maxGrossExposure: 20_000,
      maxNetExposure: 15_000,
      maxDailyLoss: 500,
      maxOrderNotional: 2500.5,
      priceCollarPct: 0.05,
      maxOrdersPerSecond: 3,
      restrictedSymbols: ['GME', 'AMC'],
      enableLiveTrading: true,
    });
  });

  it('only the exact string "true" enables live trading', () => {
    expect(riskLimitsFromEnv({ ENABLE_LIVE_TRADING: 'false' }).enableLiveTrading).toBe(false);
    expect(riskLimitsFromEnv({ ENABLE_LIVE_TRADING: '' }).enableLiveTrading).toBe(false);
    for (const v of ['TRUE', '1', 'yes', ' true']) {
      expect(() => riskLimitsFromEnv({ ENABLE_LIVE_TRADING: v })).toThrow(/ENABLE_LIVE_TRADING/);
    }
  });

  it.each([
    ['MAX_POSITION_SIZE', 'abc'],
    ['MAX_POSITION_SIZE', '-5'],
    ['MAX_DAILY_LOSS', '0'],
    ['MAX_GROSS_EXPOSURE', 'Infinity'],
    ['MAX_ORDERS_PER_SECOND', '2.5'],
    ['PRICE_COLLAR_PCT', '5'],
    ['MAX_NET_EXPOSURE', '10 000'],
  ])('%s=%s fails loudly naming the variable', (name, value) => {
    const err = (() => {
      try {
        riskLimitsFromEnv({ [name]: value });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(name);
  });

  it('never echoes a secret-looking value', () => {
    const secret = 'AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMI';
    expect(() => riskLimitsFromEnv({ MAX_DAILY_LOSS: secret })).toThrow(/MAX_DAILY_LOSS.*not shown/);
    try {
      riskLimitsFromEnv({ MAX_DAILY_LOSS: secret });
    } catch (e) {
      expect((e as Error).message).not.toContain(secret);
    }
  });

  it('rejects invalid restricted symbols', () => {
    expect(() => riskLimitsFromEnv({ RESTRICTED_SYMBOLS: 'OK,bad symbol' })).toThrow(/RESTRICTED_SYMBOLS/);
  });
});
