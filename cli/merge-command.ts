import { writeFileSync } from 'node:fs';
import { IncompatibleResultsError } from '../reports/compare.ts';
import { mergeResults } from '../reports/merge.ts';
import { loadResultArgument } from './compare-command.ts';
import { parseFlags } from './flags.ts';
import { UsageError } from './usage-error.ts';

export const MERGE_HELP = `Usage: tokenbench merge <a.json> <b.json> [...] [--out <merged.json>]

Merges the results of several load generators (machines) that ran the same scenario against one
topology into one result, printed as JSON on stdout (or written to --out). Runs are matched by
label and topology kind; every file must hold the same runs and the same scenario (only name,
topology.redisServer and topology.keep may differ), else exit 2 naming the differing field.

What is exact and what is not (also written into the result, in mergedFrom.note):
  exact         latency histograms add, latency[op].all is recomputed from the sum; completed
                ops, achieved and target rate, workers and check counts sum; timeline buckets
                add ops, verifies, errors, degraded and revokedAccepted by index
  upper bound   timeline p50/p99/max and slip percentiles: the max of the inputs; *Ms check
                figures (e.g. longest unavailability): the max
  dropped       latency[op].byPhase (no per-phase histograms in the inputs): {}
  first file    faults, events, environment, redis cost (one shared topology)

Options:
  --out <file>   write the merged result there instead of stdout
  -h, --help

Examples:
  tokenbench merge gen-1/result.json gen-2/result.json > merged.json
  tokenbench merge results/*/result.json --out merged.json
  tokenbench merge a.json b.json --out merged.json && tokenbench compare baseline.json merged.json
`;

const FLAGS = {
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, 'merge');
  if (values.help) {
    process.stdout.write(MERGE_HELP);
    return 0;
  }
  if (positionals.length < 2) {
    throw new UsageError(`merge: expected at least two result files, got ${positionals.length} (see: tokenbench merge --help)`);
  }
  const inputs = positionals.map(loadResultArgument);
  let merged;
  try {
    merged = mergeResults(inputs);
  } catch (error) {
    if (error instanceof IncompatibleResultsError) throw new UsageError(`merge: ${error.message}`);
    throw error;
  }
  const json = `${JSON.stringify(merged, null, 2)}\n`;
  if (values.out !== undefined) {
    writeFileSync(values.out, json);
    process.stdout.write(`merged ${inputs.length} results (${merged.runs.length} run${merged.runs.length === 1 ? '' : 's'}) into ${values.out}\n`);
  } else {
    process.stdout.write(json);
  }
  return 0;
}
