import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Fill } from '../../domain/index.ts';
import { formatTsIso } from './format.ts';

export const FILLS_CSV_HEADER = 'time,side,qty,price,fee';

/** Flush to disk once this many characters are buffered: few syscalls, small constant memory. */
const FLUSH_AT_CHARS = 64 * 1024;

export function fillCsvRow(fill: Fill): string {
  return `${formatTsIso(fill.ts)},${fill.side},${fill.qty},${fill.price},${fill.fee}`;
}

/**
 * Appends fills to fills.csv as they happen, so a long backtest never holds them all. Writes are
 * synchronous because the backtest loop is synchronous; close() must be called to flush the tail.
 */
export class FillsCsvWriter {
  readonly path: string;
  private fd: number | undefined;
  private buffer: string;
  private rows = 0;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.path = path;
    this.fd = openSync(path, 'w');
    this.buffer = `${FILLS_CSV_HEADER}\n`;
  }

  get count(): number {
    return this.rows;
  }

  add(fill: Fill): void {
    if (this.fd === undefined) throw new Error(`FillsCsvWriter(${this.path}): add after close`);
    this.buffer += `${fillCsvRow(fill)}\n`;
    this.rows++;
    if (this.buffer.length >= FLUSH_AT_CHARS) this.flush();
  }

  private flush(): void {
    if (this.fd !== undefined && this.buffer.length > 0) writeSync(this.fd, this.buffer);
    this.buffer = '';
  }

  /** Flushes and closes; calling it again is a no-op. */
  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
