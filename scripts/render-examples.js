#!/usr/bin/env node
// Re-renders the committed example reports from their result (docs/examples/*/result.json) with this
// checkout's report code; reports/examples.test.ts fails while they are stale.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_FILES } from '../dist/reports/examples.js';
import { loadResult } from '../dist/result/schema.js';

const root = fileURLToPath(new URL('../docs/examples/', import.meta.url));
for (const name of readdirSync(root)) {
  const result = loadResult(join(root, name, 'result.json'));
  for (const [file, render] of Object.entries(EXAMPLE_FILES)) {
    writeFileSync(join(root, name, file), render(result));
    console.log(`docs/examples/${name}/${file}`);
  }
}
