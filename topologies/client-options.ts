import { z } from 'zod';
import { parseOrThrow } from '../core/validation.ts';

/**
 * The ioredis options that decide what a client does during a failover. Everything else is
 * ioredis' own default. The defaults favour a definite answer quickly over hiding an outage:
 * a benchmark that waits forever on a dead primary measures nothing.
 */
export const DEFAULT_CLIENT_OPTIONS = {
  /**
   * Fail a command that got no reply in this many ms. Without it a command sent to a paused
   * (SIGSTOP) primary waits forever.
   * @default 1000
   */
  commandTimeout: 1000,
  /** @default 1000 */
  connectTimeout: 1000,
  /**
   * Resend a command this many times after a reconnect before failing it. ioredis' default (20)
   * turns a failover into tens of seconds of silent waiting.
   * @default 1
   */
  maxRetriesPerRequest: 1 as number | null,
  /** Queue commands while reconnecting (they still honour commandTimeout). @default true */
  enableOfflineQueue: true,
  /** Wait for the server's INFO to say loading is done before sending commands. @default true */
  enableReadyCheck: true,
  /**
   * Sentinel: subscribe to sentinels' +switch-master and reconnect at once. Without it, a client on
   * a paused primary never learns of the failover (redis/ioredis#1314).
   * @default true
   */
  failoverDetector: true,
  /** Reconnect (to the new primary) and resend when a write hits a demoted node (READONLY). @default true */
  reconnectOnReadonly: true,
  /** Cluster: wait before retrying a command after a node failed. @default 100 */
  retryDelayOnFailover: 100,
  /** Cluster: wait before retrying on CLUSTERDOWN. @default 100 */
  retryDelayOnClusterDown: 100,
  /** Cluster: wait before retrying on TRYAGAIN. @default 100 */
  retryDelayOnTryAgain: 100,
  /** Cluster: wait before following a MOVED redirection. @default 0 */
  retryDelayOnMoved: 0,
  /** Cluster: time limit for refreshing the slot map. @default 1000 */
  slotsRefreshTimeout: 1000,
  /** Batch commands issued in the same tick into one write. @default false */
  enableAutoPipelining: false,
  /** Longest pause between reconnect attempts, in ms (attempt n waits min(50 n, this)). @default 500 */
  maxReconnectDelayMs: 500,
};

const ms = z.number().int().min(0);
export const clientOptionsSchema = z.strictObject({
  commandTimeout: ms.optional(),
  connectTimeout: ms.optional(),
  maxRetriesPerRequest: z.number().int().min(0).nullable().optional(),
  enableOfflineQueue: z.boolean().optional(),
  enableReadyCheck: z.boolean().optional(),
  failoverDetector: z.boolean().optional(),
  reconnectOnReadonly: z.boolean().optional(),
  retryDelayOnFailover: ms.optional(),
  retryDelayOnClusterDown: ms.optional(),
  retryDelayOnTryAgain: ms.optional(),
  retryDelayOnMoved: ms.optional(),
  slotsRefreshTimeout: ms.optional(),
  enableAutoPipelining: z.boolean().optional(),
  maxReconnectDelayMs: ms.optional(),
  password: z.string().optional(),
  username: z.string().optional(),
  connectionName: z.string().optional(),
});

const LOOPBACK = 'an IPv4 loopback address (127.0.0.0/8)';

/**
 * What the harness adds for one client: `localAddress` is the source address of every socket the
 * client opens, so that a client group can stand on one side of a network partition (faults drop
 * packets by source and destination). Not a scenario field: the harness assigns it per group.
 */
export const clientConnectionOptionsSchema = clientOptionsSchema.extend({
  localAddress: z
    .ipv4({ error: LOOPBACK })
    .refine((address) => address.startsWith('127.'), { error: LOOPBACK })
    .optional(),
});

export type ClientOptions = z.input<typeof clientConnectionOptionsSchema>;
export type ResolvedClientOptions = typeof DEFAULT_CLIENT_OPTIONS & Pick<ClientOptions, 'password' | 'username' | 'connectionName' | 'localAddress'>;

export function resolveClientOptions(options: ClientOptions = {}): ResolvedClientOptions {
  const parsed = parseOrThrow(clientConnectionOptionsSchema, options, (p) => `client.${p.join('.')}`);
  const defined = Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_CLIENT_OPTIONS, ...defined } as ResolvedClientOptions;
}
