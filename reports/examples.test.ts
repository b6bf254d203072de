import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadResult } from '../result/schema.ts';
import { EXAMPLE_FILES } from './examples.ts';

const root = fileURLToPath(new URL('../docs/examples/', import.meta.url));

describe('the example reports under docs/examples/', () => {
  for (const name of readdirSync(root)) {
    it(`${name}: each report is what this tokenbench renders from its result.json (npm run examples re-renders them)`, () => {
      const result = loadResult(join(root, name, 'result.json'));
      for (const [file, render] of Object.entries(EXAMPLE_FILES)) {
        expect(readFileSync(join(root, name, file), 'utf8') === render(result), `docs/examples/${name}/${file} is stale: npm run examples`).toBe(true);
      }
    });
  }
});
