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

The shards of one run (\`tokenbench run --shard i/N --start-at <time>\` on N generators) merge
into the whole run: every index from 0 to N-1 once, the same N, start time and scenario, else exit
2 naming the missing or repeated shard. The merged scenario is the one-generator scenario, so
\`tokenbench compare\` holds it against a run of one generator. Each shard recorded its clock
against the Redis server's TIME; their spread is kept in mergedFrom.shards, with a warning when
their measured phases began more than 50 ms apart (the merged timeline is then smeared).

The scenario's thresholds are checked on the merged runs (a shard checks none of its own): the
verdict and thresholds are printed (on stderr when the JSON goes to stdout), and a broken one
exits 3, as \`tokenbench run\` does.

What is exact and what is not (also written into the result, in mergedFrom.note):
  exact         latency histograms add, latency[op].all is recomputed from the sum; completed
                ops, achieved and target rate, workers and check counts sum; timeline buckets
                add ops, verifies, errors, degraded and revokedAccepted by index; byPhase where
                every input measured the op in one phase only (no faults: all steady); shards:
                redis keys and entries sum (each shard wrote under its own prefix)
  upper bound   timeline p50/p99/max and slip percentiles: the max of the inputs; *Ms check
                figures (e.g. longest unavailability): the max
  dropped       latency[op].byPhase otherwise (no per-phase histograms in the inputs): {};
                footprint (each generator measured its own machine): null
  first file    faults, events, environment, redis cost (one shared topology; shards: summed)

${optionsBlock('Options:', MERGE_FLAGS)}

Examples:
  tokenbench merge gen-1/result.json gen-2/result.json > merged.json
  tokenbench merge results/*/result.json --out merged.json
  tokenbench merge a.json b.json --out merged.json && tokenbench compare baseline.json merged.json
  tokenbench merge /results/run-1/shard-*/result.json --out /results/run-1/merged.json   # exit 3: a threshold broke
`;

export const MERGE_USAGE = { command: 'merge', flags: MERGE_FLAGS, help: MERGE_HELP } satisfies CommandUsage;
