import { writeFileSync } from 'node:fs';
import { EXIT_CODES } from '../core/errors.ts';
import { IncompatibleResultsError } from '../reports/compare.ts';
import { mergeResults } from '../reports/merge.ts';
import { verdictLines } from '../reports/phrases.ts';
import { loadResultArgument } from './compare-command.ts';
import { parseFlags } from './flags.ts';
import { MERGE_HELP, MERGE_USAGE } from './merge-flags.ts';
import { UsageError } from './usage-error.ts';

export { MERGE_HELP } from './merge-flags.ts';

export async function mergeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, MERGE_USAGE.flags, MERGE_USAGE.command);
  if (values.help) {
    process.stdout.write(MERGE_HELP);
    return 0;
  }
  if (positionals.length < 2) {
    throw new UsageError(`merge: expected at least two result files, got ${positionals.length} (see: tokenbench merge --help)`);
  }
  const inputs = positionals.map(loadResultArgument);
  let merged: ReturnType<typeof mergeResults>;
  try {
    merged = mergeResults(inputs);
  } catch (error) {
    if (error instanceof IncompatibleResultsError) throw new UsageError(`merge: ${error.message}`);
    throw error;
  }
  const shards = merged.mergedFrom.shards;
  for (const warning of shards?.warnings ?? []) process.stderr.write(`tokenbench: warning: ${warning}\n`);
  const json = `${JSON.stringify(merged, null, 2)}\n`;
  const { headline, reasons, thresholds } = verdictLines(merged);
  // With the JSON on stdout, what a CI log should show goes to stderr.
  const say = values.out !== undefined ? (line: string) => process.stdout.write(`${line}\n`) : (line: string) => process.stderr.write(`${line}\n`);
  if (values.out !== undefined) {
    writeFileSync(values.out, json);
    const what = shards ? `${shards.count} shards of one run` : `${inputs.length} results`;
    say(`merged ${what} (${merged.runs.length} run${merged.runs.length === 1 ? '' : 's'}) into ${values.out}`);
  } else {
    process.stdout.write(json);
  }
  // The merged verdict and thresholds are the run's own when it was split across shards: what CI gates on.
  if (shards || thresholds.length > 0) {
    say(`verdict: ${headline}`);
    for (const line of [...reasons, ...thresholds.map((t) => t.line)]) say(`  ${line}`);
  }
  return merged.verdict.thresholdsBroken > 0 ? EXIT_CODES.thresholdsBroken : EXIT_CODES.ok;
}
