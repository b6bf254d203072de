import { InvalidOptionError } from '../core/errors.ts';

export const FAULT_ACTIONS = ['kill', 'pause', 'resume', 'restart', 'failover'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

/**
 * Who a fault hits, resolved against the live topology when it fires:
 * - `primary`: the current primary (cluster: the primary of shard 0)
 * - `replica`: a replica of that primary
 * - `sentinel`: a running sentinel
 * - `shard-primary:<n>`: cluster, the current primary of shard n
 * - `killed` / `paused`: the node most recently killed / paused (defaults for restart / resume)
 * - a node id such as `redis-2` or `sentinel-0`
 */
export type FaultTarget = string;

export interface FaultSpec {
  action: FaultAction;
  target?: FaultTarget;
  /**
   * How long the fault is meant to last, when known. Only the external backend needs it: its pause
   * is CLIENT PAUSE ALL, which no client can lift early (UNPAUSE is paused too), so it runs out.
   */
  forMs?: number;
}

export interface InjectedFault {
  action: FaultAction;
  target: FaultTarget;
  /** The node it hit (for failover: the primary that was asked to step down). */
  node: string;
  /** When it was applied: process.hrtime.bigint(). */
  ns: bigint;
}

export const DEFAULT_FAULT_TARGET: Record<FaultAction, FaultTarget> = {
  kill: 'primary',
  pause: 'primary',
  resume: 'paused',
  restart: 'killed',
  failover: 'primary',
};

const TARGET_PATTERN = /^(primary|replica|sentinel|killed|paused|shard-primary:\d+|(redis|sentinel)-\d+)$/;

export function checkFaultSpec(spec: FaultSpec, field = 'fault'): Required<Omit<FaultSpec, 'forMs'>> {
  if (!FAULT_ACTIONS.includes(spec.action)) {
    throw new InvalidOptionError(`${field}.action`, `one of ${FAULT_ACTIONS.join(', ')}`, spec.action);
  }
  const target = spec.target ?? DEFAULT_FAULT_TARGET[spec.action];
  if (!TARGET_PATTERN.test(target)) {
    throw new InvalidOptionError(
      `${field}.target`,
      'primary, replica, sentinel, killed, paused, shard-primary:<n> or a node id (redis-<n>, sentinel-<n>)',
      target,
    );
  }
  return { action: spec.action, target };
}
