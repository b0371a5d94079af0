import { parseDocument } from 'yaml';

/** Parses YAML 1.1-style (merge keys `<<:` as docker compose uses them); throws on any error. */
export function parseYaml(text: string, where: string): unknown {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJSON();
}
