#!/usr/bin/env node
/**
 * The `algoplanes` command line. Every command has --help; bad arguments or data exit non-zero with
 * one clear line on stderr (never a stack trace, never a secret).
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { errorMessage } from '../util/errors.ts';

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    // --help and --version "fail" with exit code 0; usage errors were already printed by commander.
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`algoplanes: ${errorMessage(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv);
// Long-running commands (workers) resolve only when they stop; one-shot commands end here.
if (code !== 0 || process.exitCode !== undefined) process.exit(code);
