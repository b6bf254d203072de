import type { Evidence, LoadedResult, RunFigures } from '../../decide/evidence.ts';
import { extractEvidence } from '../../decide/evidence.ts';
import { normalizeRequirements, type Requirements, type RequirementsInput } from '../../decide/requirements.ts';
import { loadResult, type ResultFile, type StrategyRunResult } from '../../result/schema.ts';

const fixture = (name: string) => new URL(`../../reports/fixtures/${name}`, import.meta.url).pathname;

/** The two report fixtures, plus the schemes they lack, derived from their measured runs. */
export function fixtureResults(): LoadedResult[] {
  const single = loadResult(fixture('single-quick.json'));
  const sentinel = loadResult(fixture('sentinel-kill.json'));
  const [blacklist, whitelist] = sentinel.runs as [StrategyRunResult, StrategyRunResult];
  const derived: ResultFile = structuredClone(sentinel);
  const variant = (run: StrategyRunResult, change: Partial<StrategyRunResult>) => ({ ...structuredClone(run), ...change });
  const doubleToken = single.runs.find((r) => r.strategy === 'double-token')!;
  derived.runs = [
    variant(blacklist, { label: 'blacklist + WAIT', wait: { replicas: 1, timeoutMs: 100 } }),
    variant(blacklist, { label: 'compact blacklist' }),
    variant(whitelist, { label: 'whitelist + WAIT', wait: { replicas: 1, timeoutMs: 100 } }),
    // double-token's verify never touches Redis: its own checks and the sentinel run's faults and outage.
    variant(doubleToken, {
      topology: blacklist.topology,
      faults: blacklist.faults,
      checks: { ...doubleToken.checks, unavailability: blacklist.checks.unavailability! },
    }),
  ];
  return [
    { path: 'single-quick.json', result: single },
    { path: 'sentinel-kill.json', result: sentinel },
    { path: 'derived.json', result: derived },
  ];
}

export function fixtureEvidence(): Evidence {
  return extractEvidence(fixtureResults());
}

export function requirements(input: RequirementsInput = {}): Requirements {
  return normalizeRequirements(input);
}

/** A run's figures with everything clean, for rule tests that change one figure. */
export function figures(change: Partial<RunFigures> = {}): RunFigures {
  return {
    source: 'test',
    verdict: { valid: true, reasons: [] },
    topology: 'sentinel',
    failurePolicy: 'fail-closed',
    wait: null,
    failover: true,
    faultActions: ['kill'],
    durabilityFault: null,
    interrupted: false,
    targetRate: 500,
    verifyP99Ms: 2,
    verifyP999Ms: 5,
    steadyVerifies: 2000,
    verifyP99AllMs: 800,
    revokeP50Ms: 0.5,
    verifiesPerSec: 450,
    roundTripsPerVerify: 1,
    bytesPerEntry: 100,
    revokedReplays: 100,
    revokedAccepted: 0,
    revokedAcceptedFailOpen: 0,
    violations: 0,
    validRejectedStoreUnavailable: 600,
    lostRevocations: 0,
    longestUnavailabilityMs: 2400,
    propagationMaxMs: 0,
    lagAcrossInstances: null,
    guaranteeBoundMs: null,
    guarantee: 'immediate',
    ...change,
  };
}
