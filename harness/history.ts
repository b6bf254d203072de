/**
 * The history of a run, Jepsen-style: every operation the workload invoked, with its outcome.
 * Times are milliseconds since the start of the measured phase, from the monotonic clock
 * (performance.now()), fractional; the same origin is used for faults and topology events.
 * The shapes are the result contract's (result/checks.ts, result/schema.ts): one definition.
 */
import type { Checks, Op } from '../result/checks.ts';
import type { ClientGroup, EventRecord, FaultRecord } from '../result/schema.ts';
import type { Guarantee } from '../strategies/types.ts';

export type { Op, OpFunction, OpType, Phase } from '../result/checks.ts';
export type { ClientGroup, EventRecord, FaultRecord } from '../result/schema.ts';

/** What checkers know about the run besides the history. */
export interface RunInfo {
  strategy: string;
  guarantee: Guarantee;
  failurePolicy: 'fail-closed' | 'fail-open';
  faults: FaultRecord[];
  events: EventRecord[];
  /** Ports of the primaries at the final reconciliation (single / sentinel). */
  finalPrimaryPorts: number[];
  durationMs: number;
  /** Every node's port (ports are unique within a topology): which node acknowledged a write. */
  nodes: { id: string; port: number }[];
  /** The run's client groups, by the `worker` their ops carry; absent: none (every worker is the default group). */
  clientGroups?: ClientGroup[];
  /** Verifier instances (load.verifiers) whose probes are in the history, as workers 1000 + k; absent: none. */
  verifiers?: number;
}

/**
 * A checker is a pure fold over the history, ops given in completion order: observe each op,
 * then result(). Folding keeps memory bounded for long runs (the history streams from disk).
 * Its name and result shape are one entry of the result contract's `checks`.
 */
export interface Checker<N extends keyof Checks = keyof Checks> {
  readonly name: N;
  observe(op: Op): void;
  result(run: RunInfo): Checks[N];
}
