import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResultFileError } from '../core/errors.ts';
import { headlineFigures } from './figures.ts';
import { MIGRATIONS, migrateToCurrent } from './migrations.ts';
import { loadResult, parseResult, SCHEMA_VERSION } from './schema.ts';

const root = new URL('..', import.meta.url).pathname;
/** Every result file this repository ships: report fixtures and the evidence behind the decision records. */
const SHIPPED = [
  ...readdirSync(join(root, 'reports/fixtures')).map((f) => join('reports/fixtures', f)),
  ...readdirSync(join(root, 'docs/decisions/evidence'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f) => join('docs/decisions/evidence', f)),
].filter((f) => f.endsWith('.json'));

describe('result migrations', () => {
  it('there is a step from every older version to the next, in order', () => {
    expect(MIGRATIONS.map((m) => m.from)).toEqual(Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => i + 1));
  });

  it.each(SHIPPED)('%s loads as the current version with its figures intact', (file) => {
    const raw = JSON.parse(readFileSync(join(root, file), 'utf8'));
    const result = loadResult(join(root, file));
    expect(result.schemaVersion).toBe(SCHEMA_VERSION);
    expect(result.runs).toHaveLength(raw.runs.length);
    // The headline a reader sees is the one the old file held, counted by hand from its checks.
    for (const [i, run] of result.runs.entries()) {
      const counts = (name: string) => raw.runs[i].checks[name].counts;
      // Version 3 holds the lost tokens themselves; older versions counted them by cause.
      const lost =
        raw.schemaVersion >= 3
          ? raw.runs[i].checks['lost-revocations'].lost.total
          : counts('lost-revocations').lostAtReconciliation + counts('lost-revocations').resurrected;
      expect(headlineFigures(run).lostRevocations).toBe(lost);
      expect(headlineFigures(run).violations).toBe(counts('revoked-accepted').violations);
    }
  });

  it('a version 1 merged file keeps its mergedFrom (version 1 readers dropped it)', () => {
    const raw = JSON.parse(readFileSync(join(root, 'reports/fixtures/single-quick.json'), 'utf8'));
    const merged = { ...raw, mergedFrom: { files: ['a.json', 'b.json'], note: 'merged' } };
    expect(parseResult(merged, 'merged.json').mergedFrom).toEqual({ files: ['a.json', 'b.json'], note: 'merged' });
  });

  it('refuses what it cannot read, naming the file and why', () => {
    expect(() => migrateToCurrent({ runs: [] }, 'x.json', SCHEMA_VERSION)).toThrow(
      new ResultFileError('x.json: field schemaVersion is missing: not a tokenbench result?'),
    );
    expect(() => migrateToCurrent({ schemaVersion: 0 }, 'x.json', SCHEMA_VERSION)).toThrow(ResultFileError);
    expect(() => migrateToCurrent([], 'x.json', SCHEMA_VERSION)).toThrow('x.json: not a tokenbench result (expected a JSON object)');
    expect(() => migrateToCurrent({ schemaVersion: SCHEMA_VERSION + 1 }, 'x.json', SCHEMA_VERSION)).toThrow(
      `written by a newer tokenbench (schemaVersion ${SCHEMA_VERSION + 1})`,
    );
  });

  it('a field the schema does not know is an error, not silently dropped', () => {
    const raw = JSON.parse(readFileSync(join(root, 'reports/fixtures/single-quick.json'), 'utf8'));
    raw.runs[0].checks['lost-revocations'].counts.lostForever = 3;
    expect(() => parseResult(raw, 'edited.json')).toThrow(
      `edited.json: field runs[0].checks.lost-revocations.counts.lostForever is not part of schemaVersion ${SCHEMA_VERSION}`,
    );
  });
});
