import type { StrategyRunResult } from '../../result/schema.ts';

/**
 * What a CI output calls each run: `blacklist on sentinel`, as every report says it. A dashboard
 * tracks a series by its name, so the names are unique within a result (a run listed twice is
 * told apart by its occurrence: `blacklist on single #2`) and the same from one run of a
 * scenario to the next.
 */
export function ciRunNames(runs: readonly Pick<StrategyRunResult, 'label' | 'topology'>[]): string[] {
  const seen = new Map<string, number>();
  return runs.map((run) => {
    const base = `${run.label} on ${run.topology.kind}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base} #${n}`;
  });
}

/** `blacklist (wait 1:100)` -> `blacklist-wait-1-100`: a label as a file name on any file system. */
export function labelSlug(label: string): string {
  return (
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'run'
  );
}
