import * as z from 'zod';
import { timestampUs } from './numbers.ts';

export const AuditEventSchema = z.object({
  ts: timestampUs,
  actor: z.string().min(1),
  action: z.string().min(1),
  entity: z.string().min(1),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type AuditEvent = Readonly<z.infer<typeof AuditEventSchema>>;

export const HealthStatus = z.enum(['ok', 'degraded', 'down']);
export type HealthStatus = z.infer<typeof HealthStatus>;

export const ServiceHealthSchema = z.object({
  service: z.string().min(1),
  status: HealthStatus,
  ts: timestampUs,
  checks: z.array(z.object({ name: z.string(), status: HealthStatus, detail: z.string().default('') })),
});
export type ServiceHealth = Readonly<z.infer<typeof ServiceHealthSchema>>;

/** A data-quality rejection: what was wrong, where it came from, and the original input kept for replay. */
export const QualityReason = z.enum([
  'INVALID_VALUE',
  'CROSSED_BOOK',
  'OUT_OF_ORDER',
  'DUPLICATE',
  'SEQUENCE_GAP',
  'MISSING_BARS',
  'OUTLIER',
  'STALE_FEED',
  'PARSE_ERROR',
]);
export type QualityReason = z.infer<typeof QualityReason>;

export const QuarantineEntrySchema = z.object({
  reason: QualityReason,
  /** file:line, subject or field the problem was found at. */
  where: z.string(),
  message: z.string(),
  ts: timestampUs.optional(),
  symbol: z.string().optional(),
  /** The raw input (CSV line, JSON payload) exactly as received. */
  raw: z.unknown().optional(),
  /** Whether the event was dropped from the stream (true) or passed on with a flag (false: gaps, stale). */
  rejected: z.boolean(),
});
export type QuarantineEntry = Readonly<z.infer<typeof QuarantineEntrySchema>>;
