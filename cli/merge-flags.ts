import { type CommandUsage, type FlagTable, HELP_FLAG, optionsBlock } from './flags.ts';

export const MERGE_FLAGS = {
  out: { type: 'string', value: '<file>', help: 'write the merged result there instead of stdout' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

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
  dropped       latency[op].byPhase (no per-phase histograms in the inputs): {}; footprint
                (each generator measured its own machine): null
  first file    faults, events, environment, redis cost (one shared topology)

${optionsBlock('Options:', MERGE_FLAGS)}

Examples:
  tokenbench merge gen-1/result.json gen-2/result.json > merged.json
  tokenbench merge results/*/result.json --out merged.json
  tokenbench merge a.json b.json --out merged.json && tokenbench compare baseline.json merged.json
`;

export const MERGE_USAGE = { command: 'merge', flags: MERGE_FLAGS, help: MERGE_HELP } satisfies CommandUsage;
