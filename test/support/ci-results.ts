/** Test-only: results for the CI output tests, built from the report fixtures. */

import { loadResult, type ResultFile, type StrategyRunResult } from '../../result/schema.ts';
import { evaluateThresholds } from '../../result/thresholds.ts';
import { runVerdict, suiteVerdict } from '../../result/verdict.ts';

const SENTINEL = new URL('../../reports/fixtures/sentinel-kill.json', import.meta.url).pathname;
const SINGLE = new URL('../../reports/fixtures/single-quick.json', import.meta.url).pathname;

export const sentinelResult = (): ResultFile => structuredClone(loadResult(SENTINEL));
export const singleResult = (): ResultFile => structuredClone(loadResult(SINGLE));

/** The run's verdict and the suite's from its checks and the thresholds given, as the runner makes them. */
export function judged(result: ResultFile, thresholds: Record<string, number> = {}): ResultFile {
  for (const run of result.runs) {
    run.verdict = runVerdict(run.checks);
    run.thresholds = evaluateThresholds(run, thresholds);
  }
  result.verdict = suiteVerdict(result.runs);
  return result;
}

/** blacklist lost 3 acknowledged revocations; whitelist's revoked-accepted checked nothing (unknown). */
export function withFindings(result: ResultFile): ResultFile {
  const [blacklist, whitelist] = result.runs as [StrategyRunResult, StrategyRunResult];
  const lost = blacklist.checks['lost-revocations'];
  lost.valid = false;
  lost.lost = {
    total: 3,
    byCause: { resurrected: 1, refreshAfterRevocation: 0, lostAtReconciliation: 2 },
    byAck: { ackedByFormerPrimary: 3, ackedByCurrentPrimary: 0, ackPortUnknown: 0 },
  };
  whitelist.checks['revoked-accepted'].valid = 'unknown';
  return result;
}

/** The sentinel fixture with one finding of each kind and three thresholds, one broken (verify p99 is ~800 ms there). */
export function findingsResult(): ResultFile {
  return judged(withFindings(sentinelResult()), { violations: 0, 'verify.all.p99': 10, throughput: 400 });
}

export const SECRET = 'Tb-s3cret-7f3a91';

/** A result as an old or hand-made file may hold it: a password in a scenario URL and field, and in a run's label. */
export function secretResult(): ResultFile {
  const result = findingsResult();
  result.scenario.topology = {
    ...(result.scenario.topology as object),
    endpoints: [`redis://default:${SECRET}@127.0.0.1:6379`],
    password: SECRET,
  };
  result.scenario.name = `against redis://default:${SECRET}@127.0.0.1:6379`;
  result.runs[0]!.label = `blacklist via http://svc:${SECRET}@127.0.0.1:8080`;
  return result;
}

/** `n` runs, each a relabelled copy of the fixture's: a suite far larger than any summary may show. */
export function manyRunsResult(n: number): ResultFile {
  const result = findingsResult();
  const [first] = result.runs;
  result.runs = Array.from({ length: n }, (_, i) => ({ ...structuredClone(first!), label: `blacklist ${i}` }));
  result.verdict = suiteVerdict(result.runs);
  return result;
}
