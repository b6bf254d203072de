import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import direction of the README's Layout section: a room may import its own files and the
 * rooms below it, never one above or beside it. `core/` imports nothing of ours.
 */
const LAYERS: Record<string, number> = {
  core: 0,
  topologies: 1,
  strategies: 2,
  result: 3,
  harness: 4,
  reports: 5,
  decide: 5,
  'index.ts': 6,
  cli: 7,
  // bench measures the library, as a user would: no CLI module.
  bench: 6.5,
  // tools/ derives files (schemas/) from the library's zod schemas: no CLI module either.
  tools: 6.5,
  bin: 8,
};

const root = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  const path = join(root, dir);
  if (statSync(path).isFile()) return [dir];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.test\.ts$/.test(f) && !f.includes('__snapshots__') && !f.includes('fixtures'))
    .map((f) => join(dir, f));
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function roomOf(file: string): string {
  return file.split('/')[0]!;
}

function scan(): { imports: number; violations: string[] } {
  const found: string[] = [];
  let imports = 0;
  for (const room of Object.keys(LAYERS)) {
    for (const file of sourceFiles(room)) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const [, spec] of text.matchAll(IMPORT)) {
        const target = relative(root, resolve(dirname(join(root, file)), spec!));
        imports++;
        const to = roomOf(target);
        if (to === room) continue;
        const from = LAYERS[room]!;
        const toLayer = LAYERS[to];
        if (toLayer === undefined || toLayer >= from) found.push(`${file} imports ${target} (${room} may import only rooms below it)`);
      }
    }
  }
  return { imports, violations: found };
}

describe('layout', () => {
  it('imports point down only: core <- topologies <- strategies <- result <- harness <- reports / decide <- cli', () => {
    const { imports, violations } = scan();
    // The scan must see the imports it judges: a broken pattern would pass every file.
    expect(imports).toBeGreaterThan(200);
    expect(violations).toEqual([]);
  });
});
