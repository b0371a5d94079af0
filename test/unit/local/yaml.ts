/**
 * YAML for the config tests. The repo has no direct `yaml` dependency; aws-cdk-lib bundles yaml 1.x,
 * so it is loaded from there (add `yaml` as a devDependency to import it directly).
 */
import { createRequire } from 'node:module';

interface YamlDocument {
  errors: { message: string }[];
  toJSON(): unknown;
}
interface YamlModule {
  parseDocument(text: string, opts?: { merge?: boolean }): YamlDocument;
}

const fromCdk = createRequire(createRequire(import.meta.url).resolve('aws-cdk-lib'));
const YAML = fromCdk('yaml') as YamlModule;

/** Parses YAML 1.1-style (merge keys `<<:` as docker compose uses them); throws on any error. */
export function parseYaml(text: string, where: string): unknown {
  const doc = YAML.parseDocument(text, { merge: true });
  if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJSON();
}
