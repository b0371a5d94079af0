/**
 * The one registry of bus subjects. NATS subjects are `<family>.<token>`; the same family names are
 * Kafka topics, with the per-symbol token carried as the message key instead (so one topic holds
 * every symbol and a symbol's messages stay ordered within its partition).
 */
import { ValidationError } from '../util/errors.ts';

/** Subject families: the part before the per-symbol / per-service token. */
export const FAMILIES = {
  /** Raw venue payloads before normalisation (data worker input). */
  rawIngest: 'md.raw',
  /** Canonical market events (bars, quotes, trades, depth) from the data plane: the hot path. */
  marketEvents: 'md.events',
  /** OFI per interval from the data plane. */
  ofi: 'md.ofi',
  signals: 'strat.signals',
  intents: 'orders.intents',
  executions: 'exec.reports',
  portfolio: 'exec.portfolio',
  health: 'sys.health',
  audit: 'sys.audit',
  notifications: 'sys.notifications',
  dlq: 'sys.dlq',
} as const;
export type Family = keyof typeof FAMILIES;

/** Kafka topic per family (dots are legal in Kafka topic names). */
export const KAFKA_TOPICS: Readonly<Record<Family, string>> = {
  rawIngest: 'md.raw',
  marketEvents: 'md.events',
  ofi: 'md.ofi',
  signals: 'signals',
  intents: 'orders.intents',
  executions: 'executions',
  portfolio: 'portfolio',
  health: 'sys.health',
  audit: 'sys.audit',
  notifications: 'sys.notifications',
  dlq: 'sys.dlq',
};

const SAFE_TOKEN_CHAR = /[A-Za-z0-9-]/;

/**
 * Escapes a symbol into one NATS token. `.` separates tokens and `*`/`>` are wildcards, so every
 * character outside [A-Za-z0-9-] becomes `_XX` (hex); `_` itself is escaped so decoding is unambiguous.
 */
export function escapeToken(symbol: string): string {
  let token = escaped.get(symbol);
  if (token === undefined) {
    token = escapeUncached(symbol);
    // Every output names its symbol's subject: memoised, bounded by the instruments traded (capped against a flood).
    if (escaped.size < 10_000) escaped.set(symbol, token);
  }
  return token;
}

const escaped = new Map<string, string>();

function escapeUncached(symbol: string): string {
  if (symbol.length === 0) throw new ValidationError('BAD_SUBJECT', 'empty symbol cannot name a subject', 'subject token');
  let out = '';
  for (const ch of symbol) {
    if (SAFE_TOKEN_CHAR.test(ch)) out += ch;
    else {
      const code = ch.codePointAt(0) ?? 0;
      if (code > 0xff) throw new ValidationError('BAD_SUBJECT', `symbol ${JSON.stringify(symbol)} holds non-Latin-1 character`, 'subject token');
      out += '_' + code.toString(16).toUpperCase().padStart(2, '0');
    }
  }
  return out;
}

export function unescapeToken(token: string): string {
  return token.replace(/_([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function subjectFor(family: Family, token: string): string {
  return `${FAMILIES[family]}.${escapeToken(token)}`;
}

/** Wildcard subject that matches every token of a family. */
export function allOf(family: Family): string {
  return `${FAMILIES[family]}.>`;
}

export const subjects = {
  rawIngest: (symbol: string) => subjectFor('rawIngest', symbol),
  marketEvents: (symbol: string) => subjectFor('marketEvents', symbol),
  ofi: (symbol: string) => subjectFor('ofi', symbol),
  signals: (symbol: string) => subjectFor('signals', symbol),
  intents: (symbol: string) => subjectFor('intents', symbol),
  executions: (symbol: string) => subjectFor('executions', symbol),
  portfolio: (accountId: string) => subjectFor('portfolio', accountId),
  health: (service: string) => subjectFor('health', service),
  audit: (service: string) => subjectFor('audit', service),
  notifications: (channel: string) => subjectFor('notifications', channel),
  /** DLQ per origin family, e.g. `sys.dlq.orders_2Eintents`. */
  dlq: (originSubject: string) => subjectFor('dlq', familyOf(originSubject).family),
} as const;

/** Splits a concrete subject into its family and unescaped token (the Kafka topic and key). */
export function familyOf(subject: string): { family: string; name: Family | undefined; token: string } {
  for (const [name, prefix] of Object.entries(FAMILIES) as [Family, string][]) {
    if (subject.startsWith(prefix + '.')) return { family: prefix, name, token: unescapeToken(subject.slice(prefix.length + 1)) };
  }
  const cut = subject.lastIndexOf('.');
  return cut < 0 ? { family: subject, name: undefined, token: '' } : { family: subject.slice(0, cut), name: undefined, token: unescapeToken(subject.slice(cut + 1)) };
}

/** Kafka topic + key for a subject: topic from the family, key = symbol / account / service. */
export function kafkaAddress(subject: string): { topic: string; key: string } {
  const f = familyOf(subject);
  if (!f.name) throw new ValidationError('BAD_SUBJECT', `subject ${subject} is not in the registry (shared/bus/subjects.ts)`, subject);
  return { topic: KAFKA_TOPICS[f.name], key: f.token };
}

/** NATS subject matching with `*` (one token) and `>` (the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
