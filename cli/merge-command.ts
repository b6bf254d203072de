import { writeFileSync } from 'node:fs';
import { IncompatibleResultsError } from '../reports/compare.ts';
import { mergeResults } from '../reports/merge.ts';
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
  const json = `${JSON.stringify(merged, null, 2)}\n`;
  if (values.out !== undefined) {
    writeFileSync(values.out, json);
    process.stdout.write(`merged ${inputs.length} results (${merged.runs.length} run${merged.runs.length === 1 ? '' : 's'}) into ${values.out}\n`);
  } else {
    process.stdout.write(json);
  }
  return 0;
}
