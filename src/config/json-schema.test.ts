import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { configJsonSchema } from './json-schema.js';
import { repoRoot } from '../../test/helpers/repo.js';

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  description?: string;
}

function keysWithoutDescription(node: JsonSchemaNode, path: string): string[] {
  const missing: string[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (child.description === undefined) missing.push(`${path}${key}`);
    missing.push(...keysWithoutDescription(child, `${path}${key}.`));
  }
  if (typeof node.additionalProperties === 'object') missing.push(...keysWithoutDescription(node.additionalProperties, `${path}*.`));
  return missing;
}

describe('configJsonSchema', () => {
  it('matches the committed schema/cutover.schema.json (run npm run schema after changing the schema)', () => {
    const committed: unknown = JSON.parse(readFileSync(join(repoRoot(), 'schema', 'cutover.schema.json'), 'utf8'));
    assert.deepEqual(committed, configJsonSchema(), 'schema/cutover.schema.json is stale: run npm run schema');
  });

  it('is a draft 2020-12 schema that rejects unknown keys at the top level', () => {
    const schema = configJsonSchema() as { $schema?: string; additionalProperties?: unknown; required?: string[] };
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required, ['apps']);
  });

  it('describes every key', () => {
    assert.deepEqual(keysWithoutDescription(configJsonSchema() as JsonSchemaNode, ''), []);
  });
});
