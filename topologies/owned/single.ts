import { FaultError } from '../../core/errors.ts';
import type { ClientTarget } from '../client.ts';
import type { SingleOptions } from '../options.ts';
import type { ManagedServer, ServerLauncher } from '../server.ts';
import type { RedisNode } from '../types.ts';
import { waitUntil } from '../wait.ts';
import { OwnedTopology } from './base.ts';

export class SingleTopology extends OwnedTopology {
  readonly kind = 'single' as const;
  declare readonly options: SingleOptions;

  static async start(options: SingleOptions, launcher: ServerLauncher, signal?: AbortSignal): Promise<SingleTopology> {
    const began = performance.now();
    const topology = new SingleTopology(options, launcher, await OwnedTopology.makeDataDir('single', options.keep));
    try {
      signal?.throwIfAborted();
      await topology.allocateAddresses();
      const server = topology.newServer({ id: 'redis-0', mode: 'server', config: ({ port }) => topology.dataNodeConfig(server, port) });
      await server.startFresh(options.readyTimeoutMs);
      topology.setInitialRole(server, { role: 'primary' });
      topology.startRolePoller();
      topology.startupMs = performance.now() - began;
      return topology;
    } catch (error) {
      await topology.stop();
      throw error;
    }
  }

  get server(): ManagedServer {
    return this.dataServers[0]!;
  }

  async primaries(): Promise<RedisNode[]> {
    return this.server.state === 'killed' ? [] : [this.toNode(this.server, 'primary')];
  }

  async waitUntilReady(timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    await waitUntil(
      `${this.server.id} answering PING`,
      async () => {
        const reply = await this.server.admin().ping();
        return { done: reply === 'PONG', seen: reply };
      },
      { timeoutMs },
    );
  }

  protected clientTarget(): ClientTarget {
    return { kind: 'single', endpoint: { host: this.server.host, port: this.server.port } };
  }

  protected async gracefulFailover(): Promise<void> {
    throw new FaultError('failover: a single node has nothing to fail over to; use a sentinel or cluster topology');
  }
}
