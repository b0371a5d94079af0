import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../shared/cli/program.ts';

const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/algoplanes.js');
const FIXTURE = join(ROOT, 'test/fixtures/backtest/sma-hand.csv');
const out = mkdtempSync(join(tmpdir(), 'algoplanes-cli-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('algoplanes CLI (bin, as npx runs it)', () => {
  it('has --help on the program and on every command', () => {
    const top = cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: algoplanes/);
    const program = buildProgram();
    const names = program.commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['backtest', 'start', 'strategies', 'worker', 'replay', 'feed', 'streams', 'topics', 'dlq', 'health']));
    const visit = (cmd: Command, path: string[]) => {
      const help = cmd.helpInformation();
      expect(help, path.join(' ')).toMatch(new RegExp(`Usage: ${path.join(' ')}`));
      expect(cmd.description().length, `${path.join(' ')} has a description`).toBeGreaterThan(0);
      for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
    };
    for (const cmd of program.commands) visit(cmd, ['algoplanes', cmd.name()]);
  });

  it('runs a backtest, prints a summary and writes the report files', () => {
    const r = cli('backtest', '--data', FIXTURE, '--strategy', 'sma-cross', '--param', 'fast=2', '--param', 'slow=3', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Round trips\s+1\n/);
    expect(r.stdout).toContain(join(out, 'report.html'));
    for (const f of ['report.json', 'report.html', 'fills.csv']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'fills.csv'), 'utf8').split('\n')[0]).toBe('time,side,qty,price,fee');
  });

  it('exits non-zero with one clear line for bad arguments and bad data', () => {
    const missing = cli('backtest', '--data', join(out, 'nope.csv'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/data file not found: .*nope\.csv/);
    expect(missing.stderr).not.toMatch(/at .*\.ts:\d+/);

    const badParam = cli('backtest', '--data', FIXTURE, '--param', 'fast');
    expect(badParam.code).not.toBe(0);
    expect(badParam.stderr).toMatch(/key=value/);

    const badStrategy = cli('backtest', '--data', FIXTURE, '--strategy', 'nope');
    expect(badStrategy.code).not.toBe(0);
    expect(badStrategy.stderr).toMatch(/nope/);

    const badCash = cli('backtest', '--data', FIXTURE, '--cash', '-5');
    expect(badCash.code).not.toBe(0);
    expect(badCash.stderr).toMatch(/positive number/);
  });
});
