import * as z from 'zod';
import { describeZodError } from '../domain/envelope.ts';
import { ConfigError } from '../util/errors.ts';

export type ParamValue = string | number | boolean;

/** One tunable parameter: the catalog (for --help) and the zod schema are both built from this. */
export interface ParamSpec {
  readonly name: string;
  readonly type: 'int' | 'number' | 'boolean';
  readonly default: number | boolean;
  readonly description: string;
  /** Inclusive lower bound for numbers. */
  readonly min?: number;
  /** Exclusive lower bound for numbers. */
  readonly above?: number;
}

/** CLI values arrive as strings ("10", "false"); everything else passes through for zod to judge. */
function fromText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text === '' ? value : Number(text);
}

function paramSchema(spec: ParamSpec): z.ZodType {
  if (spec.type === 'boolean') return z.preprocess(fromText, z.boolean()).default(spec.default as boolean);
  let n = z.number();
  if (spec.type === 'int') n = n.int();
  if (spec.min !== undefined) n = n.min(spec.min);
  if (spec.above !== undefined) n = n.gt(spec.above);
  return z.preprocess(fromText, n).default(spec.default as number);
}

export function describeParams(specs: readonly ParamSpec[]): string {
  return specs.map((s) => `${s.name} (${s.type}, default ${s.default})`).join(', ');
}

/**
 * Validates `params` against `specs` plus a cross-field rule. Unknown names and bad values fail with a
 * ConfigError that names the strategy and lists the valid parameters.
 */
export function parseParams<T>(
  strategy: string,
  specs: readonly ParamSpec[],
  params: Readonly<Record<string, ParamValue>>,
  check: (p: T) => string | undefined,
): T {
  const valid = `valid params: ${describeParams(specs)}`;
  const known = new Set(specs.map((s) => s.name));
  const unknown = Object.keys(params).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new ConfigError(`strategy '${strategy}': unknown param ${unknown.map((k) => `'${k}'`).join(', ')}; ${valid}`);
  const shape: Record<string, z.ZodType> = {};
  for (const s of specs) shape[s.name] = paramSchema(s);
  const parsed = z.object(shape).safeParse(params);
  if (!parsed.success) throw new ConfigError(`strategy '${strategy}': ${describeZodError(parsed.error)}; ${valid}`);
  const value = parsed.data as T;
  const problem = check(value);
  if (problem !== undefined) throw new ConfigError(`strategy '${strategy}': ${problem}; ${valid}`);
  return value;
}
