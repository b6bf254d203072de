import { ResultFileError } from '../core/errors.ts';

/**
 * Old result files are migrated, never refused: a result is evidence (fixtures, decision records,
 * CI baselines), and re-rendering or comparing it must keep working after a schema change. Each
 * step takes the data of one version to the next; steps run in order on read.
 */
interface Migration {
  from: number;
  /** What changed, in the words of CHANGELOG.md. */
  note: string;
  migrate(data: Record<string, unknown>): Record<string, unknown>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    from: 1,
    note: 'checker results typed per checker (same fields), mergedFrom part of the schema, unknown fields refused',
    // Version 1 files already hold every count of version 2: only the version changes. Its readers
    // dropped `mergedFrom`; version 2 keeps it, so a merged version 1 file now says it was merged.
    migrate: (data) => ({ ...data, schemaVersion: 2 }),
  },
  {
    from: 2,
    note: 'see CHANGELOG.md, schemaVersion 3',
    // Each field version 3 adds to a run is filled here with what an older file can honestly say of it.
    // footprint: version 2 did not measure it.
    migrate: (data) => ({ ...data, schemaVersion: 3, runs: (data.runs as Record<string, unknown>[]).map((run) => ({ ...run, footprint: null })) }),
  },
];

/** The data of any known schemaVersion, brought to `current`. */
export function migrateToCurrent(data: unknown, source: string, current: number): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new ResultFileError(`${source}: not a tokenbench result (expected a JSON object)`);
  let record = data as Record<string, unknown>;
  const version = record.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ResultFileError(
      `${source}: field schemaVersion is ${version === undefined ? 'missing' : `invalid (${JSON.stringify(version)})`}: not a tokenbench result?`,
    );
  }
  if (version > current) {
    throw new ResultFileError(`${source}: written by a newer tokenbench (schemaVersion ${version}); this one reads up to ${current}: upgrade tokenbench`);
  }
  for (const step of MIGRATIONS) {
    if ((record.schemaVersion as number) === step.from) record = step.migrate(record);
  }
  return record;
}
