import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ServerStartError } from '../core/errors.ts';
import { freePort } from './ports.ts';
import { waitUntil } from './wait.ts';

export interface ServerPorts {
  port: number;
  /** Cluster bus port, set explicitly: the implicit port+10000 can overflow 65535 or be taken. */
  busPort?: number;
}

export interface ServerSpec {
  id: string;
  /** Holds the config file and the log; the server's `dir`. */
  dir: string;
  mode: 'server' | 'sentinel';
  /** The loopback address it listens on (and sends from, with per-node addresses). Default 127.0.0.1. */
  host?: string;
  /**
   * Ports a sibling already holds. Faults, sentinel messages and CLUSTER NODES name nodes by port,
   * so ports stay unique within a topology even where each node has its own address.
   */
  portTaken?: (port: number) => boolean;
  needsBusPort?: boolean;
  /** The redis.conf body for the chosen ports. Written on first start only: Sentinel and Cluster rewrite their own files later. */
  config(ports: ServerPorts): string[];
}

export type ServerState = 'running' | 'paused' | 'killed';

/** One run of a server: resolves with how it ended ("killed by SIGKILL", "exited with code 1"). */
export interface Launched {
  exited: Promise<string>;
}

const START_ATTEMPTS = 5;

/**
 * Our own probes (ROLE polls, readiness, faults) fail fast while a server is down, never queue,
 * never retry: what they see must be the server's state now. Shared by every backend.
 */
export const ADMIN_CONNECTION = {
  enableOfflineQueue: false,
  enableReadyCheck: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1000,
  connectionName: 'tokenbench-admin',
  // ioredis waits this long at disconnect for the socket to close, on a timer only that close
  // clears: a socket the server's kill had already closed kept the process alive 2 s at exit.
  disconnectTimeout: 100,
} as const;

/**
 * A redis-server (or sentinel) that tokenbench owns: what the process and container backends
 * share. Ports are picked free on the node's address and the config is written to `spec.dir`; a subclass
 * only knows how to launch, kill, pause and resume its kind of thing.
 */
export abstract class ManagedServer {
  readonly id: string;
  readonly spec: ServerSpec;
  readonly host: string;
  port = 0;
  busPort: number | undefined;
  state: ServerState = 'killed';
  /** Called when the server exits without us having asked (a crash, an OOM kill, an external kill). */
  onUnexpectedExit: ((how: string) => void) | undefined;
  protected readonly configPath: string;
  readonly logPath: string;
  #admin: Redis | undefined;
  #exited: Promise<void> = Promise.resolve();
  #expectingExit = false;
  #generation = 0;

  constructor(spec: ServerSpec) {
    this.id = spec.id;
    this.spec = spec;
    this.host = spec.host ?? '127.0.0.1';
    mkdirSync(spec.dir, { recursive: true });
    this.configPath = join(spec.dir, spec.mode === 'sentinel' ? 'sentinel.conf' : 'redis.conf');
    this.logPath = join(spec.dir, 'server.log');
  }

  /** The OS pid while running (process backend). */
  get pid(): number | undefined {
    return undefined;
  }

  /** The container id (container backend). */
  get containerId(): string | undefined {
    return undefined;
  }

  protected abstract launch(): Promise<Launched>;
  protected abstract killNow(): Promise<void>;
  protected abstract pauseNow(): Promise<void>;
  protected abstract resumeNow(): Promise<void>;
  /** After the server is dead: release what the launch held (a container is removed). */
  protected async release(): Promise<void> {}

  /** First start: pick free ports, write the config, retry with new ports if one was taken meanwhile. */
  async startFresh(timeoutMs: number): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      this.port = await this.#freePort();
      this.busPort = this.spec.needsBusPort ? await this.#freePort() : undefined;
      writeFileSync(this.configPath, `${this.spec.config({ port: this.port, busPort: this.busPort }).join('\n')}\n`);
      this.#admin?.disconnect();
      this.#admin = undefined;
      try {
        await this.#launchAndWait(timeoutMs);
        return;
      } catch (error) {
        lastError = error;
        if (!(error instanceof ServerStartError && /Address already in use/i.test(error.logTail))) throw error;
        await this.release();
      }
    }
    throw lastError;
  }

  async #freePort(): Promise<number> {
    for (;;) {
      const port = await freePort(this.host);
      if (!this.spec.portTaken?.(port) && port !== this.port) return port;
    }
  }

  /** Start again on the same port with the config as the server last left it (it rejoins as itself). */
  async restart(timeoutMs: number): Promise<void> {
    if (this.state !== 'killed') return;
    await this.#launchAndWait(timeoutMs);
  }

  async #launchAndWait(timeoutMs: number): Promise<void> {
    const generation = ++this.#generation;
    this.#expectingExit = false;
    let exitInfo: string | undefined;
    const launched = await this.launch();
    this.state = 'running';
    this.#exited = launched.exited.then((how) => {
      exitInfo = how;
      if (generation !== this.#generation) return;
      this.state = 'killed';
      if (!this.#expectingExit) this.onUnexpectedExit?.(how);
    });
    try {
      await waitUntil(
        `${this.id} answering PING on ${this.host}:${this.port}`,
        async () => {
          if (exitInfo) throw new ServerStartError(this.id, exitInfo, this.logTail());
          const reply = await this.admin().ping();
          return { done: reply === 'PONG', seen: String(reply) };
        },
        { timeoutMs, intervalMs: 10 },
      );
    } catch (error) {
      if (exitInfo) throw new ServerStartError(this.id, exitInfo, this.logTail());
      throw error;
    }
  }

  logTail(lines = 12): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /**
   * A long-lived connection for our own probes: fails fast while the server is down (no offline
   * queue) and reconnects quickly once it is back, so polling reflects the server's state now.
   */
  admin(): Redis {
    if (!this.#admin) {
      this.#admin = new Redis({ ...ADMIN_CONNECTION, host: this.host, port: this.port, lazyConnect: false, connectTimeout: 1000, retryStrategy: () => 50 });
      this.#admin.on('error', () => {});
    }
    return this.#admin;
  }

  /**
   * Resolves once the server is gone, with the moment the kill was delivered: the fault's time.
   * Seeing the exit takes longer (a container's wait returns ~100 ms later), and dating the fault
   * by that would shorten every measured failover by as much.
   */
  async kill(): Promise<bigint | undefined> {
    if (this.state === 'killed') return undefined;
    this.#expectingExit = true;
    await this.killNow();
    const delivered = process.hrtime.bigint();
    await this.#exited;
    return delivered;
  }

  async pause(): Promise<void> {
    if (this.state !== 'running') return;
    await this.pauseNow();
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    if (this.state !== 'paused') return;
    await this.resumeNow();
    this.state = 'running';
  }

  /** Kill and close our connection. Data does not matter at stop, so no graceful SHUTDOWN. */
  async stop(): Promise<void> {
    await this.kill();
    this.#admin?.disconnect();
    this.#admin = undefined;
    await this.release();
  }
}

/** How a backend makes servers: the only thing single, sentinel and cluster need to know of it. */
export interface ServerLauncher {
  readonly backend: 'process' | 'container';
  /** Lines every config gets, before the topology's own (process: the leftover tag in the title). */
  configLines(spec: { dir: string }): string[];
  create(spec: ServerSpec): ManagedServer;
  /** Human description for messages: the binary or the image. */
  readonly describe: string;
}
