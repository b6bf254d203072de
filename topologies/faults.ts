import { InvalidOptionError } from '../core/errors.ts';

export const FAULT_ACTIONS = ['kill', 'pause', 'resume', 'restart', 'failover', 'partition', 'loss', 'delay'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

/** Faults on the links between nodes (and client groups), not on a node: each is healed by restoring its links. */
export const NETWORK_FAULT_ACTIONS = ['partition', 'loss', 'delay'] as const;
export type NetworkFaultAction = (typeof NETWORK_FAULT_ACTIONS)[number];
export const isNetworkFault = (action: string): action is NetworkFaultAction => (NETWORK_FAULT_ACTIONS as readonly string[]).includes(action);

export const LINK_DIRECTIONS = ['both', 'outbound', 'inbound'] as const;
export type LinkDirection = (typeof LINK_DIRECTIONS)[number];

/**
 * One side of a network fault: terms joined by `+`. A term is a node target (`primary`, `replica`,
 * `sentinel`, `shard-primary:<n>`, a node id), a group of nodes (`replicas`: of the target's
 * primary; `sentinels`), a client group (`client-<n>`, the load generator that sends from its own
 * address), or `rest`: every node and client group not on the other side.
 */
const SIDE_TERM = '(primary|replicas?|sentinels?|rest|shard-primary:\\d+|(redis|sentinel|client)-\\d+)';
export const SIDE_PATTERN = new RegExp(`^${SIDE_TERM}(\\+${SIDE_TERM})*$`);
export const SIDE_TEXT = 'terms joined by +: primary, replica(s), sentinel(s), shard-primary:<n>, a node id, a client group, rest';

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
  /** Network faults: the other side of the cut (default `rest`), and which way packets are hit (default both). */
  from?: string;
  direction?: LinkDirection;
  /** loss: percent of packets dropped on each link. */
  lossPercent?: number;
  /** delay: added to every packet on each link, plus up to `jitterMs` at random. */
  delayMs?: number;
  jitterMs?: number;
}

export interface InjectedFault {
  action: FaultAction;
  target: FaultTarget;
  /** The node it hit (for failover: the primary that was asked to step down). */
  node: string;
  /** When it was applied: process.hrtime.bigint(). */
  ns: bigint;
  /** Network faults: the handle restoreLinks() takes, who was cut from whom (node ids, `client-<n>`), and the effect in words. */
  faultId?: string;
  sides?: { isolated: string[]; from: string[]; direction: LinkDirection };
  effect?: string;
}

export const DEFAULT_FAULT_TARGET: Record<FaultAction, FaultTarget> = {
  kill: 'primary',
  pause: 'primary',
  resume: 'paused',
  restart: 'killed',
  failover: 'primary',
  partition: 'primary',
  loss: 'primary',
  delay: 'primary',
};

const TARGET_PATTERN = /^(primary|replica|sentinel|killed|paused|shard-primary:\d+|(redis|sentinel)-\d+)$/;

export function checkFaultSpec(spec: FaultSpec, field = 'fault'): { action: FaultAction; target: FaultTarget } {
  if (!FAULT_ACTIONS.includes(spec.action)) {
    throw new InvalidOptionError(`${field}.action`, `one of ${FAULT_ACTIONS.join(', ')}`, spec.action);
  }
  const target = spec.target ?? DEFAULT_FAULT_TARGET[spec.action];
  if (isNetworkFault(spec.action)) {
    if (!SIDE_PATTERN.test(target)) throw new InvalidOptionError(`${field}.target`, SIDE_TEXT, target);
    if (spec.from !== undefined && !SIDE_PATTERN.test(spec.from)) throw new InvalidOptionError(`${field}.from`, SIDE_TEXT, spec.from);
    if (spec.action === 'loss' && !(spec.lossPercent !== undefined && spec.lossPercent > 0 && spec.lossPercent <= 100))
      throw new InvalidOptionError(`${field}.loss`, 'a percentage above 0 and at most 100', spec.lossPercent);
    if (spec.action === 'delay' && !(spec.delayMs !== undefined && spec.delayMs > 0))
      throw new InvalidOptionError(`${field}.delay`, 'a delay above 0 ms', spec.delayMs);
    return { action: spec.action, target };
  }
  if (!TARGET_PATTERN.test(target)) {
    throw new InvalidOptionError(
      `${field}.target`,
      'primary, replica, sentinel, killed, paused, shard-primary:<n> or a node id (redis-<n>, sentinel-<n>)',
      target,
    );
  }
  return { action: spec.action, target };
}
