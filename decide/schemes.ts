/**
 * The schemes an architect chooses between. A scheme is a strategy plus the settings that change
 * what it guarantees (WAIT, the blacklist layout), so "blacklist" and "blacklist + WAIT" are two
 * options with their own measurements.
 */
export const SCHEME_IDS = [
  'pure',
  'blacklist',
  'blacklist-wait',
  'compact-blacklist',
  'whitelist',
  'whitelist-wait',
  'double-token',
  'replicated-blacklist',
  'cached-blacklist',
] as const;
export type SchemeId = (typeof SCHEME_IDS)[number];

export interface Scheme {
  id: SchemeId;
  title: string;
  strategy: 'pure' | 'blacklist' | 'whitelist' | 'double-token' | 'replicated-blacklist' | 'cached-blacklist';
  wait: boolean;
  /** What Redis holds, for the cost model: nothing, revocations, or every live token / session. */
  holds: 'nothing' | 'revocations' | 'live tokens' | 'sessions';
  /** Where the request path meets Redis, in plain words. */
  redisIn: string;
}

export const SCHEMES: Record<SchemeId, Scheme> = {
  pure: { id: 'pure', title: 'pure JWT', strategy: 'pure', wait: false, holds: 'nothing', redisIn: 'nowhere: tokens are checked by their signature alone' },
  blacklist: {
    id: 'blacklist',
    title: 'blacklist',
    strategy: 'blacklist',
    wait: false,
    holds: 'revocations',
    redisIn: 'every verify (one round trip) and every revocation',
  },
  'blacklist-wait': {
    id: 'blacklist-wait',
    title: 'blacklist + WAIT',
    strategy: 'blacklist',
    wait: true,
    holds: 'revocations',
    redisIn: 'every verify (one round trip) and every revocation, which waits for a replica',
  },
  'compact-blacklist': {
    id: 'compact-blacklist',
    title: 'compact blacklist',
    strategy: 'blacklist',
    wait: false,
    holds: 'revocations',
    redisIn: 'every verify (one round trip) and every revocation',
  },
  whitelist: {
    id: 'whitelist',
    title: 'whitelist',
    strategy: 'whitelist',
    wait: false,
    holds: 'live tokens',
    redisIn: 'every verify, every login and every revocation',
  },
  'whitelist-wait': {
    id: 'whitelist-wait',
    title: 'whitelist + WAIT',
    strategy: 'whitelist',
    wait: true,
    holds: 'live tokens',
    redisIn: 'every verify, every login and every revocation, which waits for a replica',
  },
  'double-token': { id: 'double-token', title: 'double-token', strategy: 'double-token', wait: false, holds: 'sessions', redisIn: 'login, refresh and logout' },
  'replicated-blacklist': {
    id: 'replicated-blacklist',
    title: 'replicated denylist',
    strategy: 'replicated-blacklist',
    wait: false,
    holds: 'revocations',
    redisIn: 'revocations only; verify reads the local replica',
  },
  'cached-blacklist': {
    id: 'cached-blacklist',
    title: 'cached denylist',
    strategy: 'cached-blacklist',
    wait: false,
    holds: 'revocations',
    redisIn: 'a cache miss on verify; revocations',
  },
};

/** The schemes whose verifiers hold the denylist in their own memory, kept fresh by Redis's invalidations: revocation is bounded by the propagation lag. */
export const LOCAL_DENYLISTS: ReadonlySet<SchemeId> = new Set<SchemeId>(['replicated-blacklist', 'cached-blacklist']);

/** The WAIT the plan runs and the recommendation names: one replica, 100 ms, as in scenarios/sentinel-failover.yaml. */
export const RECOMMENDED_WAIT = { replicas: 1, timeoutMs: 100 } as const;
/** The bucketed layout's default bucket (strategies/options.ts): entries live up to one bucket longer. */
export const COMPACT_BUCKET_MS = 60_000;
