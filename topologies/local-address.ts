import { createConnection, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { AbstractConnector, type Redis, type RedisOptions, type SentinelAddress, type SentinelConnectionOptions, SentinelConnector } from 'ioredis';

/*
 * Network faults drop packets by exact (source, destination) address pair, so a client group must
 * connect FROM its own loopback address to stand on one side of a partition. ioredis 6 passes only
 * host/port/family to net.createConnection; its one way in is the `Connector` option, which replaces
 * the connector of a client entirely. These connectors add `localAddress` to every socket.
 *
 * Only the package root is imported: ioredis has no `exports` map, so deep imports would resolve,
 * but its root already exports AbstractConnector and SentinelConnector, and StandaloneConnector
 * could not be reused anyway (it builds the socket options inside connect()).
 */

type ConnectorConstructor = NonNullable<RedisOptions['Connector']>;

/** ioredis' own message: Redis.js compares against it to tell a deliberate close from a failure. */
const CONNECTION_CLOSED = 'Connection is closed.';

/** A direct connection (single node, cluster node, sentinel query) from `localAddress`. */
export function directConnector(localAddress: string): ConnectorConstructor {
  return class LocalAddressConnector extends AbstractConnector {
    private readonly options: RedisOptions;
    constructor(options: unknown) {
      const redisOptions = options as RedisOptions;
      // Redis.js always fills disconnectTimeout from its defaults; the fallback is that default.
      super(redisOptions.disconnectTimeout ?? 2000);
      this.options = redisOptions;
    }
    connect(): Promise<Socket | TLSSocket> {
      const { host, port, tls } = this.options;
      // family 4: the source is an IPv4 address, so a host name must resolve to IPv4 as well.
      const socketOptions = { host, port: port ?? 6379, family: 4, localAddress };
      this.connecting = true;
      // Like StandaloneConnector: the socket is made on the next tick so that a disconnect() in
      // the same tick cancels it.
      return new Promise((resolve, reject) => {
        process.nextTick(() => {
          if (!this.connecting) {
            reject(new Error(CONNECTION_CLOSED));
            return;
          }
          try {
            this.stream = tls ? connectTls({ ...socketOptions, ...tls }) : createConnection(socketOptions);
          } catch (error) {
            reject(error);
            return;
          }
          this.stream.once('error', (error) => {
            this.firstError = error;
          });
          resolve(this.stream);
        });
      });
    }
  };
}

/** ioredis declares these private; they are the seams where SentinelConnector opens sockets. */
interface SentinelSeams {
  resolve(endpoint: Partial<SentinelAddress>): Promise<Record<string, unknown> | null>;
  connectToSentinel(endpoint: Partial<SentinelAddress>, options?: RedisOptions): Redis;
}

/**
 * Sentinel mode from `localAddress`: the get-master-addr queries and the failover detector's
 * subscriptions (both go through connectToSentinel) and the data connection to the resolved master
 * (resolve()'s result goes straight to net.createConnection).
 */
export function sentinelConnector(localAddress: string): ConnectorConstructor {
  const sentinelClientConnector = directConnector(localAddress);
  return class LocalAddressSentinelConnector extends SentinelConnector {
    constructor(options: unknown) {
      super(options as SentinelConnectionOptions);
      // Own properties shadow the prototype's private methods, which TypeScript will not let a subclass override.
      const seams = this as unknown as SentinelSeams;
      const resolve = seams.resolve.bind(this);
      const connectToSentinel = seams.connectToSentinel.bind(this);
      seams.resolve = async (endpoint) => {
        const master = await resolve(endpoint);
        return master && { ...master, family: 4, localAddress };
      };
      seams.connectToSentinel = (endpoint, redisOptions) => connectToSentinel(endpoint, { ...redisOptions, Connector: sentinelClientConnector });
    }
  };
}

/**
 * Redis.js sets `emitter` only on the SentinelConnector it builds itself; with ours it stays null and
 * the client never emits `failoverSubscribed` / `sentinelReconnecting`. Call right after `new Redis`:
 * the failover detector starts only once the data connection is up.
 */
export function bindSentinelEmitter(client: Redis): void {
  const { connector } = client as unknown as { connector: unknown };
  // Any SentinelConnector: on ioredis' own it is already this client.
  if (connector instanceof SentinelConnector) connector.emitter = client;
}
