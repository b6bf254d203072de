import { ResultFileError } from '../core/errors.ts';
import { findAnomalies } from './anomalies.ts';
import type { Checks } from './checks.ts';
import type { StrategyRunResult } from './schema.ts';
import { runVerdict, suiteVerdict } from './verdict.ts';

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
    migrate: (data) => {
      const runs = (data.runs as Record<string, unknown>[]).map(runToVersion3);
      return { ...data, schemaVersion: 3, runs, verdict: suiteVerdict(runs as unknown as StrategyRunResult[]) };
    },
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

type Run = Record<string, unknown> & { checks: Record<string, { counts: Record<string, number> } & Record<string, unknown>> };

/**
 * Version 2 counted a lost revocation once per way it showed (at reconciliation, and again as a
 * resurrection when the reconciliation verify came after a rejection): the distinct count cannot
 * be recovered from its counts, except when nothing was lost at all.
 */
function runToVersion3(data: Record<string, unknown>): Record<string, unknown> {
  const run = data as Run;
  const { counts, ...lostCheck } = run.checks['lost-revocations']!;
  const {
    lostAtReconciliation,
    resurrected,
    resurrectedTokens: _,
    refreshAfterRevocation,
    ackedByFormerPrimary: _f,
    ackedByCurrentPrimary: _c,
    ackPortUnknown: _u,
    ...kept
  } = counts;
  const nothingLost = lostAtReconciliation === 0 && resurrected === 0 && refreshAfterRevocation === 0;
  const unavailability = run.checks.unavailability as unknown as { figures: { longestWindowMs: number; windowStartMs: number } } & Record<string, unknown>;
  const { durationMs } = run.load as { durationMs: number };
  const version3 = {
    ...run,
    checks: {
      ...run.checks,
      unavailability: {
        ...unavailability,
        figures: {
          ...unavailability.figures,
          // The window that ran to the end of the measured phase was still open (durationMs is rounded to the ms).
          longestWindowOpenAtEnd: Math.abs(unavailability.figures.windowStartMs + unavailability.figures.longestWindowMs - durationMs) < 1,
          steadySpread: null,
        },
      },
      'lost-revocations': {
        ...lostCheck,
        counts: { ...kept, resurrectedVerifies: resurrected, refreshesAfterRevocation: refreshAfterRevocation },
        lost: nothingLost
          ? {
              total: 0,
              byCause: { resurrected: 0, refreshAfterRevocation: 0, lostAtReconciliation: 0 },
              byAck: { ackedByFormerPrimary: 0, ackedByCurrentPrimary: 0, ackPortUnknown: 0 },
            }
          : null,
      },
    },
  };
  // Verdicts and anomalies are functions of what the file holds: computed, as a current run computes them. A version 2 run had no thresholds and measured no footprint.
  return {
    ...version3,
    footprint: null,
    verdict: runVerdict(version3.checks as unknown as Checks),
    thresholds: [],
    anomalies: findAnomalies(version3 as unknown as StrategyRunResult),
  };
}
