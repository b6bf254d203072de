import { Cluster, type ClusterOptions as IORedisClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './client-options.ts';
import { bindSentinelEmitter, directConnector, sentinelConnector } from './local-address.ts';

// The options live apart from the client so that the scenario schema loads without ioredis.
export {
  type ClientOptions,
  clientConnectionOptionsSchema,
  clientOptionsSchema,
  DEFAULT_CLIENT_OPTIONS,
  type ResolvedClientOptions,
  resolveClientOptions,
} from './client-options.ts';

export interface Endpoint {
  host: string;
  port: number;
}

/** How to reach a deployment that needs credentials or TLS (the external backend). Plain data: it crosses into worker threads. */
export interface Access {
  username?: string;
  password?: string;
  sentinelPassword?: string;
  tls?: { ca?: string; rejectUnauthorized: boolean };
}

export type ClientTarget = (
  | { kind: 'single'; endpoint: Endpoint }
  | { kind: 'sentinel'; sentinels: Endpoint[]; masterName: string }
  | { kind: 'cluster'; nodes: Endpoint[] }
) & { access?: Access };

/** ioredis connection options for an Access: credentials and TLS for data nodes. */
export function accessOptions(access: Access | undefined): RedisOptions {
  if (!access) return {};
  return {
    ...(access.username !== undefined && { username: access.username }),
    ...(access.password !== undefined && { password: access.password }),
    ...(access.tls && { tls: { ...(access.tls.ca !== undefined && { ca: access.tls.ca }), rejectUnauthorized: access.tls.rejectUnauthorized } }),
  };
}

function connectionOptions(o: ResolvedClientOptions): RedisOptions {
  return {
    commandTimeout: o.commandTimeout,
    connectTimeout: o.connectTimeout,
    maxRetriesPerRequest: o.maxRetriesPerRequest,
    enableReadyCheck: o.enableReadyCheck,
    enableAutoPipelining: o.enableAutoPipelining,
    reconnectOnError: o.reconnectOnReadonly ? (error: Error) => (error.message.startsWith('READONLY') ? 2 : false) : null,
    retryStrategy: (times: number) => Math.min(times * 50, o.maxReconnectDelayMs),
    ...(o.password !== undefined && { password: o.password }),
    ...(o.username !== undefined && { username: o.username }),
    ...(o.connectionName !== undefined && { connectionName: o.connectionName }),
  };
}

/** Builds the ioredis client a strategy would use in production for this kind of deployment. */
export function createClient(target: ClientTarget, options: ClientOptions = {}): Redis | Cluster {
  const o = resolveClientOptions(options);
  const common = { ...accessOptions(target.access), ...connectionOptions(o) };
  const direct = o.localAddress !== undefined ? { Connector: directConnector(o.localAddress) } : {};
  let client: Redis | Cluster;
  switch (target.kind) {
    case 'single':
      client = new Redis({ ...common, ...direct, ...target.endpoint, enableOfflineQueue: o.enableOfflineQueue });
      break;
    case 'sentinel':
      client = new Redis({
        ...common,
        ...(o.localAddress !== undefined && { Connector: sentinelConnector(o.localAddress) }),
        enableOfflineQueue: o.enableOfflineQueue,
        sentinels: target.sentinels,
        name: target.masterName,
        failoverDetector: o.failoverDetector,
        sentinelCommandTimeout: o.commandTimeout,
        sentinelRetryStrategy: (times: number) => Math.min(times * 50, o.maxReconnectDelayMs),
        ...(o.password !== undefined && { sentinelPassword: o.password }),
        ...(target.access?.sentinelPassword !== undefined && { sentinelPassword: target.access.sentinelPassword }),
        ...(target.access?.tls && { enableTLSForSentinelMode: true, sentinelTLS: common.tls ?? {} }),
      });
      bindSentinelEmitter(client);
      break;
    case 'cluster': {
      const { retryStrategy: _perNodeRetry, ...redisOptions } = common;
      const clusterOptions: IORedisClusterOptions = {
        // Node connections and the slots-refresh connections (duplicates of a node's) take the Connector.
        redisOptions: { ...redisOptions, ...direct },
        enableOfflineQueue: o.enableOfflineQueue,
        enableReadyCheck: o.enableReadyCheck,
        enableAutoPipelining: o.enableAutoPipelining,
        retryDelayOnFailover: o.retryDelayOnFailover,
        retryDelayOnClusterDown: o.retryDelayOnClusterDown,
        retryDelayOnTryAgain: o.retryDelayOnTryAgain,
        retryDelayOnMoved: o.retryDelayOnMoved,
        slotsRefreshTimeout: o.slotsRefreshTimeout,
        clusterRetryStrategy: (times: number) => Math.min(times * 50, o.maxReconnectDelayMs),
      };
      client = new Cluster(target.nodes, clusterOptions);
      break;
    }
  }
  // Connection errors surface as failed commands, which is where callers look; without a
  // listener ioredis prints every reconnect attempt during an outage.
  client.on('error', () => {});
  return client;
}
