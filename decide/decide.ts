import { formatDuration } from '../core/duration.ts';
import { formatBytes, formatElapsed as ms, formatNumber as num } from '../core/format.ts';
import { DEFAULT_CLIENT_OPTIONS } from '../topologies/client-options.ts';
import { TOPOLOGY_KINDS } from '../topologies/options.ts';
import type { TopologyKind } from '../topologies/types.ts';
import { type CostEstimate, estimateCost, type NodeCapacity, nodeCapacity, type SchemeCost, TEAM_VERIFIER_UNKNOWN, teamVerifierCost } from './cost.ts';
import type { DurabilityFault, Evidence, RunFigures, VerifierKind } from './evidence.ts';
import { describeRevocation, type Requirements } from './requirements.ts';
import { COMPACT_BUCKET_MS, LOCAL_DENYLISTS, RECOMMENDED_WAIT, SCHEME_IDS, SCHEMES, type SchemeId } from './schemes.ts';

export type CellStatus = 'met' | 'not met' | 'not measured';

export interface Cell {
  status: CellStatus;
  /** The measured figure or the property of the design that decides it. */
  figure: string;
}

export const ROW_IDS = [
  'revocation',
  'revokeAll',
  'sessionLimit',
  'onlineCount',
  'neverAcceptRevoked',
  'p99',
  'p999',
  'peakRate',
  'onFailure',
  'noLostRevocations',
  'maxUnavailability',
] as const;
export type RowId = (typeof ROW_IDS)[number];

export interface RequirementRow {
  id: RowId;
  title: string;
}

/** A team's own verifier as an option: known by its label and kind, judged by its runs alone. */
export interface TeamVerifier {
  label: string;
  kind: VerifierKind;
}

export interface OptionAssessment {
  /** null: a team's verifier (see verifier). */
  scheme: SchemeId | null;
  /** The team's verifier this option is; null: one of our schemes. */
  verifier: TeamVerifier | null;
  /** null: the scheme needs no Redis, so no topology. */
  topology: TopologyKind | null;
  cells: Partial<Record<RowId, Cell>>;
  cost: CostEstimate;
  /** One line, `pure: cannot revoke before expiry; fails 'immediate revocation'`; null when it qualifies. */
  disqualification: string | null;
  notMet: number;
  notMeasured: number;
  /** The runs the figures come from. */
  runs: RunFigures[];
}

export interface Setting {
  name: string;
  value: string;
}

export interface Recommendation {
  /** null: a team's verifier (see verifier). */
  scheme: SchemeId | null;
  verifier: TeamVerifier | null;
  topology: TopologyKind | null;
  settings: Setting[];
  /** Where Redis sits in the request path, and the requirement that puts it there. */
  redisNeeded: string;
  redisNotNeeded: string;
  /** Requirements the choice meets by design but no run measured. */
  unmeasured: string[];
  /** What the team lives with, good and bad, with the measured figures. */
  consequences: string[];
}

export interface Decision {
  requirements: Requirements;
  rows: RequirementRow[];
  /** One per scheme, then one per team verifier given with --result, each on its best allowed topology. */
  options: OptionAssessment[];
  capacity: NodeCapacity;
  recommendation: Recommendation | null;
  /** When nothing qualifies: the option failing the fewest requirements, and which. */
  closest: { option: OptionAssessment; failing: string[]; consequences: string[] } | null;
  evidenceFiles: string[];
}

const TOPOLOGY_RANK: Record<TopologyKind, number> = { single: 0, sentinel: 1, cluster: 2 };
/** Tie-break between schemes that cost the same: the simpler one to run and reason about. */
const SIMPLICITY: Record<SchemeId, number> = {
  pure: 0,
  'double-token': 1,
  blacklist: 2,
  whitelist: 3,
  'compact-blacklist': 4,
  'blacklist-wait': 5,
  'whitelist-wait': 6,
  'cached-blacklist': 7,
  'replicated-blacklist': 8,
};

/** Redis answers some verifies: all of them (blacklist, whitelist) or the cache misses (cached denylist). The replicated denylist answers from memory. */
const onVerifyPath = (scheme: SchemeId) =>
  SCHEMES[scheme].strategy === 'blacklist' || SCHEMES[scheme].strategy === 'whitelist' || SCHEMES[scheme].strategy === 'cached-blacklist';
/** Stores only revocations, in Redis and, for the local denylists, in each verifier too. */
const isDenylist = (scheme: SchemeId) => SCHEMES[scheme].strategy === 'blacklist' || LOCAL_DENYLISTS.has(scheme);

const VERIFIER_KIND_WORDS: Record<VerifierKind, string> = { http: 'HTTP service', module: 'strategy module' };

/** `blacklist`, `orders-api (HTTP service)`: what the record and the terminal call an option. */
export function optionTitle(option: Pick<OptionAssessment, 'scheme' | 'verifier'>): string {
  return option.verifier ? `${option.verifier.label} (${VERIFIER_KIND_WORDS[option.verifier.kind]})` : SCHEMES[option.scheme!].title;
}

const met = (figure: string): Cell => ({ status: 'met', figure });
const notMet = (figure: string): Cell => ({ status: 'not met', figure });
const notMeasured = (figure: string): Cell => ({ status: 'not measured', figure });

function maxOf(runs: readonly RunFigures[], pick: (r: RunFigures) => number | null): number | null {
  const values = runs.map(pick).filter((v): v is number => v !== null);
  return values.length > 0 ? Math.max(...values) : null;
}

/** Shown where a durability cell rests on faults that rarely lose writes. */
export const NOT_SHOWN_BY_FAULTS =
  'not shown by the faults run (kill -9 rarely loses writes; a partition or a hung primary does: run decide without --result, or add a partition or pause fault)';

const DURABILITY_FAULT_WORDS: Record<DurabilityFault, string> = { partition: 'the primary cut off by a partition', pause: 'a hung primary' };

/** `1 with the primary cut off by a partition`, `2 runs with a hung primary and 1 with ...`: the runs whose 0 lost means something. */
function durabilityRunsText(runs: readonly RunFigures[], first: (n: number) => string = num): string {
  return (['partition', 'pause'] as const)
    .map((fault) => [fault, runs.filter((run) => run.durabilityFault === fault).length] as const)
    .filter(([, n]) => n > 0)
    .map(([fault, n], i) => `${i === 0 ? first(n) : num(n)} with ${DURABILITY_FAULT_WORDS[fault]}`)
    .join(' and ');
}

/** `kill`, `kill and partition`: the faults of the runs a figure comes from. */
function faultsOf(runs: readonly RunFigures[]): string {
  const actions = [...new Set(runs.flatMap((run) => run.faultActions))];
  return actions.length > 1 ? `${actions.slice(0, -1).join(', ')} and ${actions.at(-1)}` : (actions[0] ?? 'no fault');
}

const plural = (n: number, one: string, many = `${one}s`) => `${num(n)} ${n === 1 ? one : many}`;

function sumOf(runs: readonly RunFigures[], pick: (r: RunFigures) => number | null): number | null {
  const values = runs.map(pick).filter((v): v is number => v !== null);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) : null;
}

/** The propagation lag a local denylist's revocation rests on: across instances when the run had other verifiers, else on the writing instance. */
interface MeasuredLag {
  maxMs: number;
  /** Where the figure comes from, for the cell: `across 812 probes on other verifier instances`. */
  where: string;
  neverRejected: number;
  staleAccepts: number | null;
}

function measuredLag(runs: readonly RunFigures[]): MeasuredLag | null {
  const across = runs.flatMap((run) => (run.lagAcrossInstances ? [run.lagAcrossInstances] : []));
  if (across.length > 0)
    return {
      // null: no pair was rejected at all (every one is in neverRejected, which fails the row).
      maxMs: Math.max(...across.map((lag) => lag.maxMs ?? Number.POSITIVE_INFINITY)),
      where: `across ${plural(
        across.reduce((n, lag) => n + lag.probes, 0),
        'probe',
      )} on other verifier instances`,
      neverRejected: across.reduce((n, lag) => n + lag.neverRejected, 0),
      staleAccepts: across.reduce((n, lag) => n + lag.staleAccepts, 0),
    };
  const sameInstance = maxOf(runs, (run) => run.propagationMaxMs);
  return sameInstance === null
    ? null
    : { maxMs: sameInstance, where: 'on the writing instance (across instances not measured)', neverRejected: 0, staleAccepts: null };
}

const lagText = (lag: MeasuredLag) => `max lag ${ms(lag.maxMs)} ${lag.where}`;

export function requirementRows(r: Requirements): RequirementRow[] {
  const rows: RequirementRow[] = [{ id: 'revocation', title: describeRevocation(r) }];
  if (r.revocation.revokeAllDevices) rows.push({ id: 'revokeAll', title: 'revoke all devices' });
  if (r.revocation.maxSessionsPerUser > 0) rows.push({ id: 'sessionLimit', title: `at most ${r.revocation.maxSessionsPerUser} sessions per user` });
  if (r.revocation.onlineUserCount) rows.push({ id: 'onlineCount', title: 'online-user count' });
  if (r.revocation.neverAcceptRevoked) rows.push({ id: 'neverAcceptRevoked', title: 'no revoked token ever accepted' });
  rows.push({ id: 'p99', title: `verify p99 ≤ ${formatDuration(r.latency.verifyP99)}` });
  if (r.latency.verifyP999 !== null) rows.push({ id: 'p999', title: `verify p99.9 ≤ ${formatDuration(r.latency.verifyP999)}` });
  rows.push({ id: 'peakRate', title: `${num(r.latency.peakVerifyRate)} verifies/s at peak` });
  rows.push({ id: 'onFailure', title: `Redis unreachable: ${r.redis.onFailure === 'deny' ? 'deny (fail-closed)' : 'allow (fail-open)'}` });
  if (!r.redis.ackedRevocationsMayBeLost) rows.push({ id: 'noLostRevocations', title: 'no acknowledged revocation lost on failover' });
  if (r.redis.maxUnavailability !== null)
    rows.push({ id: 'maxUnavailability', title: `unavailable ≤ ${formatDuration(r.redis.maxUnavailability)} when a node fails` });
  return rows;
}

/** The rules, one per requirement: design properties first, then the measured figure. */
function assessCell(
  row: RowId,
  scheme: SchemeId,
  topology: TopologyKind | null,
  runs: readonly RunFigures[],
  r: Requirements,
  cost: SchemeCost,
  capacity: NodeCapacity,
): Cell {
  const s = SCHEMES[scheme];
  const lifetime = r.tokens.accessTtl + r.tokens.leeway;
  const stateless = s.strategy === 'pure';
  const immediate = s.strategy === 'blacklist' || s.strategy === 'whitelist';
  const failoverRuns = runs.filter((run) => run.failover);
  const durabilityRuns = failoverRuns.filter((run) => run.durabilityFault !== null);
  switch (row) {
    case 'revocation': {
      const mode = r.revocation.mode;
      if (mode === 'none') return met('not needed');
      if (stateless) return notMet('cannot revoke before expiry');
      if (s.strategy === 'double-token') {
        if (mode === 'logout') return met(`logout ends the session; its access token lives ≤ ${formatDuration(lifetime)}`);
        if (mode === 'bounded' && lifetime <= r.revocation.within!) return met(`access tokens live ≤ ${formatDuration(lifetime)} after revocation`);
        const shorter =
          mode === 'bounded' && r.revocation.within! > r.tokens.leeway
            ? `; shorten tokens.accessTtl to ${formatDuration(r.revocation.within! - r.tokens.leeway)} to qualify`
            : '';
        return notMet(`a revoked session's access token lives up to ${formatDuration(lifetime)}${shorter}`);
      }
      if (LOCAL_DENYLISTS.has(scheme)) {
        const lag = measuredLag(runs);
        if (mode === 'immediate') return notMet(`bounded by the measured propagation lag, not immediate${lag ? ` (${lagText(lag)})` : ''}`);
        if (mode === 'logout')
          return met(
            `a logout is enforced once its invalidation arrives (${lag ? lagText(lag) : 'lag not measured'}); at worst the token expires within ${formatDuration(lifetime)}`,
          );
        if (!lag) return notMeasured('bounded by the propagation lag, not measured');
        if (lag.neverRejected > 0) return notMet(`${plural(lag.neverRejected, 'revocation')} never rejected by another instance (measured)`);
        const within = r.revocation.within!;
        return lag.maxMs <= within ? met(`${lagText(lag)} ≤ ${formatDuration(within)}`) : notMet(`${lagText(lag)} > ${formatDuration(within)}`);
      }
      if (runs.length === 0) return notMeasured('immediate by design, not measured');
      const violations = sumOf(runs, (run) => run.violations) ?? 0;
      const replays = sumOf(runs, (run) => run.revokedReplays) ?? 0;
      const lag = maxOf(runs, (run) => run.propagationMaxMs);
      if (violations > 0) return notMet(`${num(violations)} revoked tokens accepted after the ack (measured)`);
      return met(`0 of ${num(replays)} revoked replays accepted${lag !== null ? `, max lag ${ms(lag)}` : ''}`);
    }
    case 'revokeAll':
      if (stateless) return notMet('cannot revoke before expiry');
      if (s.strategy === 'double-token') {
        const bounded = r.revocation.mode === 'logout' || r.revocation.mode === 'none' || (r.revocation.mode === 'bounded' && lifetime <= r.revocation.within!);
        return bounded
          ? met(`kills every refresh family; access tokens live ≤ ${formatDuration(lifetime)}`)
          : notMet(`access tokens of a banned user live up to ${formatDuration(lifetime)}`);
      }
      if (LOCAL_DENYLISTS.has(scheme)) return met("one write: the user's revoked-before watermark, which reaches the verifiers like any entry");
      return met(s.strategy === 'blacklist' ? "one write: the user's revoked-before watermark" : "one write: deletes the user's set");
    case 'sessionLimit':
      if (s.strategy === 'whitelist') return met(`maxSessions ${r.revocation.maxSessionsPerUser} evicts the oldest`);
      if (stateless) return notMet('keeps no state: cannot count sessions');
      if (isDenylist(scheme)) return notMet("stores only revocations: does not know a user's live tokens");
      return notMet('no limit on refresh families in tokenbench (would need a count per user)');
    case 'onlineCount':
      if (s.strategy === 'whitelist') return met('every live token is in Redis');
      if (s.strategy === 'double-token') return met('live refresh families: logged-in sessions, not recent activity');
      return notMet(stateless ? 'keeps no state' : 'stores only revocations');
    case 'neverAcceptRevoked': {
      if (LOCAL_DENYLISTS.has(scheme)) return notMet('a revoked token is accepted until its invalidation arrives (bounded by the propagation lag)');
      if (!immediate) return notMet(stateless ? 'cannot revoke before expiry' : `access tokens live up to ${formatDuration(lifetime)} after revocation`);
      // No failover to survive: a crash comes back empty and accepts every revoked token again.
      if (topology === 'single') return notMet('one node, no replica: a crash loses every revocation (persistence off)');
      return measuredNeverAcceptedCell(runs);
    }
    case 'p99':
    case 'p999':
      return latencyCell(row, runs, r);
    case 'peakRate': {
      if (cost.nodes === 0) return met('verify needs no Redis');
      const what = `${num(cost.opsPerSec, 1)} Redis ops/s${s.strategy === 'double-token' ? ' (verify needs none; login and refresh)' : ''}`;
      if (cost.nodes === null) return notMeasured(`${what}; per-node capacity not measured: run the capacity probe (see the cost model)`);
      if (cost.nodes > 1 && topology !== 'cluster') {
        // A measured figure is only a lower bound on capacity: too few nodes is then unproven, not proven.
        return capacity.kind === 'assumed'
          ? notMet(`${what} needs ${cost.nodes} primaries at the assumed ${num(capacity.opsPerSec!)} ops/s each; ${topology} has one`)
          : notMeasured(`${what}: up to ${cost.nodes} primaries at the measured lower bound of ${num(capacity.opsPerSec!)} ops/s; capacity not established`);
      }
      return met(`${what}: ${cost.nodes} primar${cost.nodes === 1 ? 'y' : 'ies'}`);
    }
    case 'onFailure': {
      if (stateless) return met('verify never asks Redis');
      if (s.strategy === 'double-token') return met('verify never asks Redis; login and refresh fail closed');
      const policy = r.redis.onFailure === 'deny' ? 'fail-closed' : 'fail-open';
      const same = failoverRuns.filter((run) => run.failurePolicy === policy);
      if (scheme === 'replicated-blacklist') return met(replicaOutageText(policy, same, runs));
      if (same.length === 0) return met(`failurePolicy ${policy} (outage cost not measured)`);
      const outages = same.length === 1 ? 'the outage' : `${num(same.length)} outages`;
      // node-redis empties its cache on a disconnect: during an outage every cached verify is a miss.
      const cleared = scheme === 'cached-blacklist' ? '; the cache is cleared on disconnect, so every verify asks Redis then' : '';
      return policy === 'fail-closed'
        ? met(`${num(sumOf(same, (run) => run.validRejectedStoreUnavailable) ?? 0)} valid tokens rejected in ${outages} (measured)${cleared}`)
        : met(`${num(sumOf(same, (run) => run.revokedAcceptedFailOpen) ?? 0)} revoked tokens accepted in ${outages} (measured)${cleared}`);
    }
    case 'noLostRevocations': {
      if (stateless) return met('nothing to lose');
      if (topology === 'single') return notMet('one node, no replica: a crash loses every revocation (persistence off)');
      const lost = sumOf(failoverRuns, (run) => run.lostRevocations);
      if (!s.wait) {
        const measuredLoss =
          lost === null ? '' : lost > 0 ? ` (measured: ${num(lost)} lost)` : ` (measured 0 lost under ${faultsOf(failoverRuns)}; 0 on loopback proves nothing)`;
        return notMet(`asynchronous replication can lose an acknowledged revocation${measuredLoss}`);
      }
      if (failoverRuns.length === 0) return notMeasured('WAIT; no failover run measured');
      if (lost !== null && lost > 0) return notMet(`${num(lost)} lost despite WAIT (measured, with ${faultsOf(failoverRuns)})`);
      // 0 lost is evidence only from a fault that can lose writes: kill -9 rarely does.
      if (durabilityRuns.length === 0) return notMeasured(`0 lost under ${faultsOf(failoverRuns)}: ${NOT_SHOWN_BY_FAULTS}`);
      return met(`0 lost in ${plural(failoverRuns.length, 'failover run')}, ${durabilityRunsText(durabilityRuns)} (WAIT ${RECOMMENDED_WAIT.replicas})`);
    }
    case 'maxUnavailability': {
      const bound = r.redis.maxUnavailability!;
      if (stateless) return met('verify never asks Redis');
      if (s.strategy === 'double-token') {
        const window = maxOf(failoverRuns, (run) => run.longestUnavailabilityMs);
        return met(
          `verify never asks Redis${window !== null ? ` (longest verify gap in the failover: ${ms(window)})` : ''}; login and refresh wait for the failover`,
        );
      }
      if (scheme === 'replicated-blacklist') {
        if (topology === 'single')
          return notMet('one node: no failover; verify answers from the replica, but revocations fail until the node restarts (empty, without persistence)');
        const window = maxOf(failoverRuns, (run) => run.longestUnavailabilityMs);
        if (window === null) return notMeasured('verify reads the local replica; no failover run measured');
        const figure = `verify answers from the local replica; longest verify gap ${ms(window)} (measured failover, the replica reloading)`;
        return window <= bound ? met(figure) : notMet(`${figure} > ${formatDuration(bound)}`);
      }
      if (topology === 'single') return notMet('one node: no failover, an outage lasts until it restarts');
      return measuredUnavailabilityCell(failoverRuns, bound);
    }
  }
}

function latencyCell(row: 'p99' | 'p999', runs: readonly RunFigures[], r: Requirements): Cell {
  const budget = row === 'p99' ? r.latency.verifyP99 : r.latency.verifyP999!;
  const value = maxOf(runs, (run) => (row === 'p99' ? run.verifyP99Ms : run.verifyP999Ms));
  if (value === null) return notMeasured('not measured');
  const rate = maxOf(runs, (run) => run.targetRate);
  const samples = Math.min(...runs.filter((run) => run.verifyP99Ms !== null).map((run) => run.steadyVerifies));
  // Below 1000 samples p99.9 is the single worst verify, p99 one of a handful: say so next to the figure.
  const figure = `${ms(value)} steady${rate !== null ? ` at ${num(rate)} ops/s` : ''}${samples < 1000 ? ` (${num(samples)} verifies)` : ''}`;
  return value <= budget ? met(figure) : notMet(`${figure} > ${formatDuration(budget)}`);
}

function measuredUnavailabilityCell(failoverRuns: readonly RunFigures[], bound: number): Cell {
  const window = maxOf(failoverRuns, (run) => run.longestUnavailabilityMs);
  if (window === null) return notMeasured('no failover run measured');
  return window <= bound ? met(`${ms(window)} (measured failover)`) : notMet(`${ms(window)} measured > ${formatDuration(bound)}`);
}

/** No revoked token accepted and none lost, as the runs show it: a 0 lost counts only from a fault that can lose writes. */
function measuredNeverAcceptedCell(runs: readonly RunFigures[]): Cell {
  const failoverRuns = runs.filter((run) => run.failover);
  const durabilityRuns = failoverRuns.filter((run) => run.durabilityFault !== null);
  if (runs.length === 0) return notMeasured('not measured');
  const accepted = sumOf(runs, (run) => run.revokedAccepted) ?? 0;
  const lost = sumOf(runs, (run) => run.lostRevocations) ?? 0;
  const figure = `${num(accepted)} accepted, ${num(lost)} lost`;
  if (accepted + lost > 0) return notMet(`${figure} (measured${failoverRuns.length ? `, with ${faultsOf(failoverRuns)}` : ''})`);
  if (failoverRuns.length === 0) return notMeasured('no failover run measured');
  if (durabilityRuns.length === 0) return notMeasured(`${figure} under ${faultsOf(failoverRuns)}: ${NOT_SHOWN_BY_FAULTS}`);
  return met(`${figure} (measured, with ${faultsOf(failoverRuns)}; ${durabilityRunsText(durabilityRuns, (n) => plural(n, 'run'))})`);
}

/** The weakest promise the runs state: one run promising less is what the verifier promises. */
function statedGuarantee(runs: readonly RunFigures[]): RunFigures['guarantee'] | null {
  if (runs.length === 0) return null;
  if (runs.some((run) => run.guarantee === 'none')) return 'none';
  const bound = maxOf(runs, (run) => (typeof run.guarantee === 'object' ? run.guarantee.boundedByMs : null));
  return bound === null ? 'immediate' : { boundedByMs: bound };
}

const guaranteeText = (g: RunFigures['guarantee']) =>
  g === 'immediate' ? 'immediate revocation' : g === 'none' ? 'no revocation guarantee' : `revocation within ${ms(g.boundedByMs)}`;

/** Shown where a team verifier's cell would need its design. */
const BY_DESIGN_ONLY = `${TEAM_VERIFIER_UNKNOWN}, and this needs its design`;

/**
 * A team's verifier, by measurement only: tokenbench drove it but does not know how it is built,
 * so a row is met or not met only from what its runs measured, the same way as the measured part
 * of our schemes' rows, and not measured where only the design could tell.
 */
function assessVerifierCell(row: RowId, runs: readonly RunFigures[], r: Requirements): Cell {
  const failoverRuns = runs.filter((run) => run.failover);
  const durabilityRuns = failoverRuns.filter((run) => run.durabilityFault !== null);
  switch (row) {
    case 'revocation': {
      const mode = r.revocation.mode;
      if (mode === 'none') return met('not needed');
      const stated = statedGuarantee(runs);
      if (stated === null) return notMeasured('no run measured');
      const says = `the run states ${guaranteeText(stated)}`;
      const violations = sumOf(runs, (run) => run.violations) ?? 0;
      if (violations > 0) return notMet(`${num(violations)} revoked tokens accepted after the ack beyond what ${says} (measured)`);
      const lag = measuredLag(runs);
      if (mode === 'immediate') {
        if (stated !== 'immediate') return notMet(`${says}, not immediate${lag ? ` (${lagText(lag)}, measured)` : ''}`);
        const replays = sumOf(runs, (run) => run.revokedReplays) ?? 0;
        return met(`0 of ${num(replays)} revoked replays accepted after the ack${lag ? `, ${lagText(lag)}` : ''} (measured; ${says})`);
      }
      if (!lag) return notMeasured(`propagation lag not measured; ${says}`);
      if (lag.neverRejected > 0) return notMet(`${plural(lag.neverRejected, 'revocation')} never rejected by another instance (measured)`);
      if (mode === 'logout') return met(`revoked tokens rejected after the ack: ${lagText(lag)} (measured; ${says})`);
      const within = r.revocation.within!;
      return lag.maxMs <= within
        ? met(`${lagText(lag)} ≤ ${formatDuration(within)} (measured; ${says})`)
        : notMet(`${lagText(lag)} > ${formatDuration(within)} (measured; ${says})`);
    }
    case 'revokeAll':
      return notMeasured(`${TEAM_VERIFIER_UNKNOWN}; the checkers count revoke-all with the other revocations, not on its own`);
    case 'sessionLimit':
    case 'onlineCount':
      return notMeasured(BY_DESIGN_ONLY);
    case 'neverAcceptRevoked':
      return measuredNeverAcceptedCell(runs);
    case 'p99':
    case 'p999':
      return latencyCell(row, runs, r);
    case 'peakRate':
      return notMeasured(`${TEAM_VERIFIER_UNKNOWN}: its Redis operations per verify are not, so the cost model cannot size Redis`);
    case 'onFailure': {
      if (failoverRuns.length === 0) return notMeasured('no failover run measured');
      const outages = failoverRuns.length === 1 ? 'the outage' : `${num(failoverRuns.length)} outages`;
      if (r.redis.onFailure === 'deny') {
        const acceptedRevoked = sumOf(failoverRuns, (run) => run.revokedAcceptedFailOpen) ?? 0;
        const rejected = `${num(sumOf(failoverRuns, (run) => run.validRejectedStoreUnavailable) ?? 0)} valid tokens rejected`;
        return acceptedRevoked > 0
          ? notMet(`${num(acceptedRevoked)} revoked tokens accepted while Redis could not answer, in ${outages} (measured): it fails open`)
          : met(`${rejected}, 0 revoked accepted in ${outages} (measured)`);
      }
      const rejected = sumOf(failoverRuns, (run) => run.validRejectedStoreUnavailable) ?? 0;
      return rejected > 0
        ? notMet(`${num(rejected)} valid tokens rejected while Redis could not answer, in ${outages} (measured): it fails closed`)
        : met(`0 valid tokens rejected in ${outages} (measured)`);
    }
    case 'noLostRevocations': {
      if (failoverRuns.length === 0) return notMeasured('no failover run measured');
      const lost = sumOf(failoverRuns, (run) => run.lostRevocations);
      if (lost !== null && lost > 0) return notMet(`${num(lost)} lost (measured, with ${faultsOf(failoverRuns)})`);
      if (lost === null) return notMeasured('lost revocations not measured');
      // 0 lost is evidence only from a fault that can lose writes: kill -9 rarely does.
      if (durabilityRuns.length === 0) return notMeasured(`0 lost under ${faultsOf(failoverRuns)}: ${NOT_SHOWN_BY_FAULTS}`);
      return met(`0 lost in ${plural(failoverRuns.length, 'failover run')}, ${durabilityRunsText(durabilityRuns)} (measured)`);
    }
    case 'maxUnavailability':
      return measuredUnavailabilityCell(failoverRuns, r.redis.maxUnavailability!);
  }
}

/**
 * While Redis is down the replica keeps answering: valid tokens keep working, and since no
 * revocation can be acknowledged without Redis, none made during the outage is missed. What is
 * missed is one acknowledged just before, whose invalidation never reached a verifier. Only the
 * reload after the failover follows the failure policy.
 */
function replicaOutageText(policy: 'fail-closed' | 'fail-open', samePolicyFailovers: readonly RunFigures[], runs: readonly RunFigures[]): string {
  const stale = sumOf(runs, (run) => run.lagAcrossInstances?.staleAccepts ?? null);
  const lost = sumOf(samePolicyFailovers, (run) => run.lostRevocations);
  // staleAccepts also counts the accepts inside the normal lag: it bounds what was missed from above.
  const missed = `measured: ${stale === null ? 'stale accepts on other instances not measured' : `${num(stale)} accepts of a revoked token after its ack on other instances, within the lag or not`}; ${lost === null ? 'lost not measured' : `${num(lost)} acknowledged revocations lost`}`;
  const reload =
    samePolicyFailovers.length === 0
      ? `while it reloads after a failover: ${policy} (not measured)`
      : policy === 'fail-closed'
        ? `while it reloads after a failover it rejects (fail-closed): ${num(sumOf(samePolicyFailovers, (run) => run.validRejectedStoreUnavailable) ?? 0)} valid tokens rejected (measured)`
        : `while it reloads after a failover it accepts (fail-open): ${num(sumOf(samePolicyFailovers, (run) => run.revokedAcceptedFailOpen) ?? 0)} revoked tokens accepted (measured)`;
  return `verify keeps answering from the local replica while Redis is down, fail-open-like for revocations: none can be acknowledged during the outage, so only one acknowledged just before whose invalidation never arrived is missed (${missed}); ${reload}`;
}

function assess(
  scheme: SchemeId,
  topology: TopologyKind | null,
  evidence: Evidence,
  r: Requirements,
  rows: readonly RequirementRow[],
  capacity: NodeCapacity,
): OptionAssessment {
  // pure never talks to Redis: any topology's run measures the same JWT check.
  const everyTopology = evidence.schemes.filter((e) => e.scheme === scheme).flatMap((e) => e.runs);
  const runs = topology === null ? everyTopology : everyTopology.filter((run) => run.topology === topology);
  // Without Redis on the verify path, verify latency does not depend on the topology.
  const latencyRuns = onVerifyPath(scheme) ? runs : everyTopology;
  const cost = estimateCost(scheme, r, evidence, capacity);
  const cells: Partial<Record<RowId, Cell>> = {};
  for (const row of rows) cells[row.id] = assessCell(row.id, scheme, topology, row.id === 'p99' || row.id === 'p999' ? latencyRuns : runs, r, cost, capacity);
  const failing = rows.filter((row) => cells[row.id]!.status === 'not met');
  const name = `${SCHEMES[scheme].title}${topology ? ` on ${topology}` : ''}`;
  return {
    scheme,
    verifier: null,
    topology,
    cells,
    cost,
    disqualification: failing.length > 0 ? `${name}: ${cells[failing[0]!.id]!.figure}; fails '${failing[0]!.title}'` : null,
    notMet: failing.length,
    notMeasured: rows.filter((row) => cells[row.id]!.status === 'not measured').length,
    runs,
  };
}

function assessVerifier(
  verifier: TeamVerifier,
  topology: TopologyKind,
  evidence: Evidence,
  r: Requirements,
  rows: readonly RequirementRow[],
): OptionAssessment {
  const runs = (evidence.verifiers ?? [])
    .filter((v) => v.label === verifier.label && v.kind === verifier.kind && v.topology === topology)
    .flatMap((v) => v.runs);
  const cells: Partial<Record<RowId, Cell>> = {};
  for (const row of rows) cells[row.id] = assessVerifierCell(row.id, runs, r);
  const failing = rows.filter((row) => cells[row.id]!.status === 'not met');
  return {
    scheme: null,
    verifier,
    topology,
    cells,
    cost: teamVerifierCost(),
    disqualification:
      failing.length > 0 ? `${optionTitle({ scheme: null, verifier })} on ${topology}: ${cells[failing[0]!.id]!.figure}; fails '${failing[0]!.title}'` : null,
    notMet: failing.length,
    notMeasured: rows.filter((row) => cells[row.id]!.status === 'not measured').length,
    runs,
  };
}

/** Within 10% counts as the same: two runs of one scheme differ by more than that in bytes per entry. */
function compareRoughly(a: number | null, b: number | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const big = Math.max(Math.abs(a), Math.abs(b));
  return big === 0 || Math.abs(a - b) / big <= 0.1 ? 0 : a - b;
}

/** A team verifier's verify path is not known: counted as on it, so it never wins a tie for keeping Redis off it. */
const mayUseRedisToVerify = (o: OptionAssessment) => (o.scheme === null ? true : onVerifyPath(o.scheme));
/** A team verifier after ours at a tie: ours are known by their design too. */
const simplicity = (o: OptionAssessment) => (o.scheme === null ? Object.keys(SIMPLICITY).length : SIMPLICITY[o.scheme]);

/** Best first: meets more, measured more, keeps Redis off the verify path, costs less, simpler. */
export function rankOptions(a: OptionAssessment, b: OptionAssessment): number {
  return (
    a.notMet - b.notMet ||
    a.notMeasured - b.notMeasured ||
    Number(mayUseRedisToVerify(a)) - Number(mayUseRedisToVerify(b)) ||
    compareRoughly(a.cost.opsPerSec, b.cost.opsPerSec) ||
    compareRoughly(a.cost.memoryBytes, b.cost.memoryBytes) ||
    simplicity(a) - simplicity(b) ||
    (a.topology ? TOPOLOGY_RANK[a.topology] : -1) - (b.topology ? TOPOLOGY_RANK[b.topology] : -1)
  );
}

function settingsFor(option: OptionAssessment, r: Requirements): Setting[] {
  const s = SCHEMES[option.scheme!];
  const settings: Setting[] = [
    { name: 'scheme', value: `${s.title} (strategy \`${s.strategy}\`${option.scheme === 'compact-blacklist' ? ', `blacklist.layout: bucketed`' : ''})` },
  ];
  if (option.topology === null) {
    settings.push({ name: 'Redis', value: 'none' });
  } else {
    const shards = option.topology === 'cluster' ? Math.max(3, option.cost.nodes ?? 3) : null;
    settings.push({
      name: 'topology',
      value:
        option.topology === 'single'
          ? 'single Redis node'
          : option.topology === 'sentinel'
            ? 'Sentinel: 1 primary, 2 replicas, 3 sentinels (quorum 2)'
            : `Cluster: ${shards} shards × 1 replica`,
    });
    settings.push({
      name: 'WAIT',
      value: s.wait
        ? `\`wait: { replicas: ${RECOMMENDED_WAIT.replicas}, timeoutMs: ${RECOMMENDED_WAIT.timeoutMs} }\` after each revocation; check \`replicasAcked\` in the ack`
        : 'off',
    });
    settings.push({
      name: 'failure policy',
      value:
        s.strategy === 'double-token'
          ? 'verify does not use Redis; login and refresh fail closed'
          : r.redis.onFailure === 'deny'
            ? '`fail-closed`: reject when Redis cannot answer'
            : '`fail-open`: accept when Redis cannot answer (revoked tokens too)',
    });
    if (option.scheme === 'replicated-blacklist')
      settings.push({
        name: 'local state',
        value:
          'a full replica of the denylist in each verifier: arm `CLIENT TRACKING ON BCAST PREFIX tb:bl:` first, then load the entries, then apply what arrived meanwhile; re-arm and reload after every reconnect and failover (on Cluster on every primary); the invalidation subscriber needs `protocol: 2` with ioredis 6, which drops RESP3 invalidate pushes',
      });
    if (option.scheme === 'cached-blacklist')
      settings.push({
        name: 'local state',
        value:
          'node-redis (`redis` >= 5.1) `clientSideCache` over RESP3, negative answers cached too; it clears the cache on every disconnect and cluster topology change, and pipelines bypass it',
      });
    const c = DEFAULT_CLIENT_OPTIONS;
    settings.push({
      name: option.scheme === 'cached-blacklist' ? 'client (ioredis, for revocations)' : 'client (ioredis)',
      value: `\`commandTimeout: ${c.commandTimeout}\`, \`maxRetriesPerRequest: ${c.maxRetriesPerRequest}\`${option.topology === 'sentinel' ? ', `failoverDetector: true` (redis/ioredis#1314)' : ''}${option.topology === 'cluster' ? `, \`retryDelayOnFailover: ${c.retryDelayOnFailover}\`` : ''}, \`reconnectOnReadonly: true\``,
    });
  }
  settings.push({ name: 'access token lifetime', value: `${formatDuration(r.tokens.accessTtl)} (leeway ${formatDuration(r.tokens.leeway)})` });
  if (s.strategy === 'double-token')
    settings.push({ name: 'refresh token lifetime', value: `${formatDuration(r.tokens.refreshTtl)}, rotated on every refresh with reuse detection` });
  if (option.scheme === 'compact-blacklist') settings.push({ name: 'bucket', value: `${formatDuration(COMPACT_BUCKET_MS)}` });
  if (s.strategy === 'whitelist' && r.revocation.maxSessionsPerUser > 0)
    settings.push({ name: 'session limit', value: `\`whitelist.maxSessions: ${r.revocation.maxSessionsPerUser}\`` });
  return settings;
}

function recommend(best: OptionAssessment, options: readonly OptionAssessment[], rows: readonly RequirementRow[], r: Requirements): Recommendation {
  if (best.scheme === null)
    return {
      scheme: null,
      verifier: best.verifier,
      topology: best.topology,
      settings: [
        { name: 'verifier', value: `${optionTitle(best)}, the team's own, as measured` },
        { name: 'topology', value: `${best.topology} Redis, as in the measured runs` },
      ],
      redisNeeded: `Not known: ${TEAM_VERIFIER_UNKNOWN}, and where it uses Redis is its design.`,
      redisNotNeeded: 'Not known, for the same reason.',
      unmeasured: rows.filter((row) => best.cells[row.id]?.status === 'not measured').map((row) => row.title),
      consequences: consequencesOf(best, r, options),
    };
  const failingFor = (scheme: SchemeId) => {
    const option = options.find((o) => o.scheme === scheme);
    return rows.filter((row) => option?.cells[row.id]?.status === 'not met').map((row) => `'${row.title}'`);
  };
  const s = SCHEMES[best.scheme];
  let redisNeeded: string;
  let redisNotNeeded: string;
  if (s.strategy === 'pure') {
    redisNeeded = 'Redis is not needed: no requirement asks to revoke a token before it expires, so the signature check is the whole verification.';
    redisNotNeeded = 'Every request: verify is a signature and claims check in the service, with nothing shared to run, scale or fail over.';
  } else {
    redisNeeded = `Redis is needed for ${s.redisIn}, because of ${failingFor('pure').join(', ') || 'the requirements above'} (a pure JWT cannot meet ${failingFor('pure').length === 1 ? 'it' : 'them'}).`;
    const verifyDrivers = failingFor('double-token');
    redisNotNeeded =
      s.strategy === 'double-token'
        ? 'Verify (every API request) needs no Redis: the short access token is checked by its signature alone, so Redis latency and outages never touch it.'
        : s.strategy === 'replicated-blacklist'
          ? 'Redis is off the verify path: each verifier checks its own replica of the denylist, which Redis keeps fresh by pushing every revocation, so verify touches no network while the replica is live. Not needed to issue tokens: only revocations are stored.'
          : s.strategy === 'cached-blacklist'
            ? 'Redis is off the verify path on a cache hit: it answers only the misses, and pushes an invalidation to every verifier that cached a revoked key. Not needed to issue tokens: only revocations are stored.'
            : `Redis is on the verify path because double-token cannot meet ${verifyDrivers.join(', ') || 'the requirements'}. ${s.strategy === 'blacklist' ? 'Not needed to issue tokens: a blacklist stores only revocations.' : 'A whitelist needs it everywhere: it writes every token it issues and reads it on every verify.'}`;
  }
  return {
    scheme: best.scheme,
    verifier: null,
    topology: best.topology,
    settings: settingsFor(best, r),
    redisNeeded,
    redisNotNeeded,
    unmeasured: rows.filter((row) => best.cells[row.id]?.status === 'not measured').map((row) => row.title),
    consequences: consequencesOf(best, r, options),
  };
}

/** The price of the choice, in figures where a run measured them; `others` give the blacklist's verify p99 to compare a local denylist with. */
export function consequencesOf(option: OptionAssessment, r: Requirements, others: readonly OptionAssessment[] = []): string[] {
  if (option.scheme === null) return teamVerifierConsequences(option, r);
  const s = SCHEMES[option.scheme];
  const runs = option.runs;
  const failover = runs.filter((run) => run.failover);
  const lifetime = formatDuration(r.tokens.accessTtl + r.tokens.leeway);
  const out: string[] = [];
  if (s.strategy === 'pure') {
    out.push(
      `A stolen token works until it expires (${lifetime}); the only levers are a shorter tokens.accessTtl and rotating the signing key, which logs everyone out.`,
    );
    out.push('Nothing to run, scale or fail over: verification scales with the service instances.');
  }
  if (s.strategy === 'double-token') {
    out.push(`A revoked session's access token keeps working up to ${lifetime}; bans and logouts take effect at its next refresh.`);
    const window = maxOf(failover, (run) => run.longestUnavailabilityMs);
    out.push(
      `Login, refresh and logout need Redis and fail while it fails over; verify keeps working through a Redis outage${window !== null ? ` (longest verify gap in the measured failover: ${ms(window)})` : ''}.`,
    );
  }
  if (s.strategy === 'blacklist' || s.strategy === 'whitelist') {
    const p99 = maxOf(runs, (run) => run.verifyP99Ms);
    const p99All = maxOf(failover, (run) => run.verifyP99AllMs);
    if (p99 !== null)
      out.push(`Every verify waits for Redis: p99 ${ms(p99)} steady${p99All !== null ? `, ${ms(p99All)} over a run with a failover` : ''} (measured).`);
    const window = maxOf(failover, (run) => run.longestUnavailabilityMs);
    const rejected = sumOf(failover, (run) => run.validRejectedStoreUnavailable);
    const measuredRuns = failover.length === 1 ? 'the measured run' : `${num(failover.length)} measured runs (${faultsOf(failover)})`;
    if (r.redis.onFailure === 'deny') {
      out.push(
        `While Redis fails over, valid tokens are rejected (fail-closed)${window !== null ? `: ${failover.length > 1 ? 'up to ' : ''}${ms(window)} without an answer, ${num(rejected ?? 0)} valid tokens rejected in ${measuredRuns}` : ''}.`,
      );
    } else {
      out.push(
        `While Redis fails over, every token is accepted (fail-open), revoked ones included${window !== null ? `: up to ${ms(window)} in ${measuredRuns}` : ''}.`,
      );
    }
    if (s.strategy === 'whitelist')
      out.push(`Memory grows with every live token (${num(option.cost.liveEntries)} at the stated scale), and every login is a Redis write.`);
    else out.push(`Memory grows with revocations, not users (${num(option.cost.liveEntries)} live entries at the stated scale).`);
  }
  if (LOCAL_DENYLISTS.has(option.scheme)) out.push(...localDenylistConsequences(option, r, others));
  if (option.scheme === 'compact-blacklist')
    out.push(`Entries live up to one bucket (${formatDuration(COMPACT_BUCKET_MS)}) longer than needed, and one key holds many entries.`);
  if (s.wait) {
    const revoke = maxOf(runs, (run) => run.revokeP50Ms);
    out.push(
      `Each revocation waits for a replica${revoke !== null ? ` (revoke p50 ${ms(revoke)} steady, measured)` : ''}. WAIT is not consensus: if the replica that acknowledged is not the one promoted, a revocation can still be lost. It narrows the window, it does not close it; WAIT for every replica narrows it further.`,
    );
  }
  if (option.topology === 'single')
    out.push(
      'One Redis node: no failover. If it dies, Redis is gone until it restarts (and without persistence it comes back empty). Set redis.maxUnavailability to require a failover.',
    );
  const rates = runs.map((run) => run.targetRate).filter((v): v is number => v !== null);
  if (rates.length > 0)
    out.push(
      `Latencies were measured at ${num(Math.max(...rates))} ops/s on this machine over loopback, not at the stated peak of ${num(r.latency.peakVerifyRate)} verifies/s: re-run on production-like hardware before committing.`,
    );
  return out;
}

function teamVerifierConsequences(option: OptionAssessment, r: Requirements): string[] {
  const runs = option.runs;
  const failover = runs.filter((run) => run.failover);
  const out: string[] = [];
  const p99 = maxOf(runs, (run) => run.verifyP99Ms);
  const p99All = maxOf(failover, (run) => run.verifyP99AllMs);
  if (p99 !== null) out.push(`Verify p99 ${ms(p99)} steady${p99All !== null ? `, ${ms(p99All)} over a run with a failover` : ''} (measured).`);
  const window = maxOf(failover, (run) => run.longestUnavailabilityMs);
  if (window !== null)
    out.push(
      `While Redis failed over (${faultsOf(failover)}): up to ${ms(window)} without a definite verify answer, ${num(sumOf(failover, (run) => run.validRejectedStoreUnavailable) ?? 0)} valid tokens rejected (measured).`,
    );
  out.push(
    `Everything else is its design, which tokenbench does not know: what it keeps in Redis and how much, how often verify asks Redis, session limits; ${TEAM_VERIFIER_UNKNOWN}.`,
  );
  const rates = runs.map((run) => run.targetRate).filter((v): v is number => v !== null);
  if (rates.length > 0)
    out.push(
      `Latencies were measured at ${num(Math.max(...rates))} ops/s, not at the stated peak of ${num(r.latency.peakVerifyRate)} verifies/s: re-run on production-like hardware before committing.`,
    );
  return out;
}

function localDenylistConsequences(option: OptionAssessment, r: Requirements, others: readonly OptionAssessment[]): string[] {
  const runs = option.runs;
  const failover = runs.filter((run) => run.failover);
  const replicated = option.scheme === 'replicated-blacklist';
  const out: string[] = [];
  const p99 = maxOf(runs, (run) => run.verifyP99Ms);
  const blacklistP99 = maxOf(others.find((o) => o.scheme === 'blacklist')?.runs ?? [], (run) => run.verifyP99Ms);
  const comparison = p99 !== null && blacklistP99 !== null ? `, against ${ms(blacklistP99)} for the blacklist's round trip` : '';
  out.push(
    replicated
      ? `Redis off the verify path: verify reads the local replica, with no network${p99 !== null ? ` (p99 ${ms(p99)} steady${comparison}, measured)` : ''}.`
      : `Redis off the verify path on a cache hit: only a miss waits for Redis${p99 !== null ? ` (p99 ${ms(p99)} steady${comparison}, measured)` : ''}.`,
  );
  const lag = measuredLag(runs);
  const bound = maxOf(runs, (run) => run.guaranteeBoundMs);
  out.push(
    `A revoked token is still accepted until its invalidation reaches each verifier: ${lag ? `${lagText(lag)} (measured)` : 'propagation lag not measured'}${bound !== null ? `; the strategy promises ≤ ${ms(bound)}` : ''}. Revocation is bounded, never immediate.`,
  );
  const window = maxOf(failover, (run) => run.longestUnavailabilityMs);
  const failClosed = r.redis.onFailure === 'deny';
  out.push(
    replicated
      ? `While Redis is down verify keeps answering from the replica; revocations fail until it is back, so none is acknowledged and missed. After a failover or a reconnect each verifier re-arms tracking and reloads the denylist, and meanwhile it ${failClosed ? 'rejects every token (fail-closed)' : 'accepts every token (fail-open)'}${window !== null ? `: longest verify gap ${ms(window)} (measured)` : ''}.`
      : `After a failover or a disconnect node-redis clears the cache: every verify misses until it refills, a burst of round trips on the new primary, and a verify Redis cannot answer is ${failClosed ? 'rejected (fail-closed)' : 'accepted (fail-open)'}${window !== null ? `: longest verify gap ${ms(window)} (measured)` : ''}.`,
  );
  const state = option.cost.verifier;
  if (state)
    out.push(
      `Each verifier holds its own ${replicated ? 'replica' : 'cache'}: ${num(state.entries)} entries, about ${formatBytes(state.memoryBytes)}${replicated ? '' : ' or more'} at the stated scale, per instance.`,
    );
  return out;
}

/** The allowed topologies a scheme can run on: WAIT needs a replica, so never single. */
export function candidateTopologies(scheme: SchemeId, requirements: Requirements): TopologyKind[] {
  return TOPOLOGY_KINDS.filter((k) => requirements.redis.topologies.includes(k) && !(SCHEMES[scheme].wait && k === 'single'));
}

/** Fails a requirement by design alone, whatever a run would measure: not worth running. */
export function disqualifiedByDesign(scheme: SchemeId, topology: TopologyKind | null, requirements: Requirements): string | null {
  const none: Evidence = { schemes: [], capacity: null, files: [] };
  const rows = requirementRows(requirements);
  return assess(scheme, topology, none, requirements, rows, nodeCapacity(requirements, none)).disqualification;
}

/**
 * Requirements + measurements -> a decision. Pure: no I/O, no clock, so every rule and every figure
 * can be checked on fixture evidence.
 */
export function decide(requirements: Requirements, evidence: Evidence): Decision {
  const rows = requirementRows(requirements);
  const capacity = nodeCapacity(requirements, evidence);
  const options: OptionAssessment[] = [];
  for (const scheme of SCHEME_IDS) {
    if (SCHEMES[scheme].strategy === 'pure') {
      options.push(assess(scheme, null, evidence, requirements, rows, capacity));
      continue;
    }
    const kinds = candidateTopologies(scheme, requirements);
    if (kinds.length === 0) continue;
    const candidates = kinds.map((kind) => assess(scheme, kind, evidence, requirements, rows, capacity)).sort(rankOptions);
    options.push(candidates[0]!);
  }
  // A team's verifier is never planned: it is an option only when its results were given.
  const teamVerifiers = new Map((evidence.verifiers ?? []).map((v) => [`${v.kind}/${v.label}`, { label: v.label, kind: v.kind }]));
  for (const verifier of teamVerifiers.values()) {
    const kinds = TOPOLOGY_KINDS.filter(
      (k) =>
        requirements.redis.topologies.includes(k) &&
        evidence.verifiers!.some((v) => v.label === verifier.label && v.kind === verifier.kind && v.topology === k),
    );
    if (kinds.length === 0) continue;
    options.push(kinds.map((kind) => assessVerifier(verifier, kind, evidence, requirements, rows)).sort(rankOptions)[0]!);
  }
  const ranked = [...options].sort(rankOptions);
  const best = ranked[0]!;
  const qualifies = best.notMet === 0;
  return {
    requirements,
    rows,
    options,
    capacity,
    recommendation: qualifies ? recommend(best, options, rows, requirements) : null,
    closest: qualifies
      ? null
      : {
          option: best,
          failing: rows.filter((row) => best.cells[row.id]?.status === 'not met').map((row) => row.title),
          consequences: consequencesOf(best, requirements, options),
        },
    evidenceFiles: evidence.files,
  };
}
