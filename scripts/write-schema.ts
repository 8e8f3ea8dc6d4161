/**
 * Writes the JSON Schema of cutover.yaml to schema/cutover.schema.json, for editors.
 * Run after a build: `node dist/scripts/write-schema.js` (or `npm run schema`).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/index.js';

// Compiled to dist*/scripts/write-schema.js, so the repository root is two levels up.
const schemaFile = fileURLToPath(new URL('../../schema/cutover.schema.json', import.meta.url));
writeFileSync(schemaFile, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${schemaFile}`);
