import { redactSecrets } from '../core/secrets.ts';
import { compareResults, DEFAULT_THRESHOLDS, IncompatibleResultsError, parseThresholds, regressions, renderComparison } from '../reports/compare.ts';
import { loadResult, type ResultFile } from '../result/schema.ts';
import { COMPARE_HELP, COMPARE_USAGE } from './compare-flags.ts';
import { parseFlags } from './flags.ts';
import { UsageError } from './usage-error.ts';

export { COMPARE_HELP } from './compare-flags.ts';

/** A file that does not load is a wrong argument for compare and merge: exit 2, same one-line message. */
export function loadResultArgument(path: string): { source: string; result: ResultFile } {
  return { source: path, result: loadResult(path) };
}

export async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, COMPARE_USAGE.flags, COMPARE_USAGE.command);
  if (values.help) {
    process.stdout.write(COMPARE_HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(`compare: expected two result files, <baseline.json> <current.json>, got ${positionals.length} (see: tokenbench compare --help)`);
  }
  if (values.json && values.markdown) throw new UsageError('compare: --json and --markdown: choose one');
  const thresholds = values['max-regression'] === undefined ? DEFAULT_THRESHOLDS : parseThresholds(values['max-regression']);
  const baseline = loadResultArgument(positionals[0]!);
  const current = loadResultArgument(positionals[1]!);
  let comparison: ReturnType<typeof compareResults>;
  try {
    comparison = compareResults(baseline, current, thresholds);
  } catch (error) {
    if (error instanceof IncompatibleResultsError) throw new UsageError(`compare: ${error.message}`);
    throw error;
  }
  const crossed = regressions(comparison);
  // Run names can hold a service's URL: never with its password.
  if (values.json) process.stdout.write(`${JSON.stringify(redactSecrets({ ...comparison, regressions: crossed }), null, 2)}\n`);
  else process.stdout.write(renderComparison(comparison, { markdown: values.markdown ?? false }));
  return crossed.length > 0 ? 1 : 0;
}
