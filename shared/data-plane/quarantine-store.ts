import { appendFileSync, readFileSync } from 'node:fs';
import { describeZodError } from '../domain/envelope.ts';
import { QuarantineEntrySchema } from '../domain/system.ts';
import type { QuarantineEntry } from '../domain/system.ts';
import { ValidationError } from '../util/errors.ts';

const DEFAULT_FLUSH_EVERY = 256;

/**
 * Quarantined input as JSON lines, appended in batches with synchronous writes: a crash loses at
 * most one unflushed batch, and the file can be replayed with readQuarantine().
 */
export class JsonlQuarantine {
  private pending: string[] = [];
  private written = 0;

  constructor(
    readonly path: string,
    private readonly flushEvery = DEFAULT_FLUSH_EVERY,
  ) {}

  add(entry: QuarantineEntry): void {
    this.pending.push(JSON.stringify(entry));
    if (this.pending.length >= this.flushEvery) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.path, this.pending.join('\n') + '\n');
    this.written += this.pending.length;
    this.pending = [];
  }

  close(): void {
    this.flush();
  }

  /** Entries added so far (written or pending). */
  count(): number {
    return this.written + this.pending.length;
  }
}

/** Reads a quarantine file back; a line that is not a valid entry fails naming path:line. */
export function readQuarantine(path: string): QuarantineEntry[] {
  const entries: QuarantineEntry[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new ValidationError('BAD_QUARANTINE', `not JSON: ${(err as Error).message}`, `${path}:${i + 1}`);
      }
      const r = QuarantineEntrySchema.safeParse(parsed);
      if (!r.success) throw new ValidationError('BAD_QUARANTINE', describeZodError(r.error), `${path}:${i + 1}`);
      entries.push(r.data);
    });
  return entries;
}
