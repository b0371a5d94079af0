/** Lambda configuration is read once at module scope; a missing or malformed value fails the cold start loudly. */
import { ConfigError } from '../util/errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(`environment variable ${name} is required but not set`);
  return value;
}

export function optionalEnv(name: string, fallback: string, env: Env = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
}

export function positiveNumberEnv(name: string, fallback: number, env: Env = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`environment variable ${name} must be a positive number, got '${raw}'`);
  return value;
}

/** A JSON object from the environment (strategy params, sizing). */
export function jsonEnv(name: string, fallback: Record<string, unknown>, env: Env = process.env): Record<string, unknown> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`environment variable ${name} must be JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`environment variable ${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
