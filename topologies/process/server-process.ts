import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ServerStartError } from '../errors.ts';
import { freePort } from '../ports.ts';
import { waitUntil } from '../wait.ts';
import { track, untrack } from './registry.ts';

export interface ServerPorts {
  port: number;
  /** Cluster bus port, set explicitly: the implicit port+10000 can overflow 65535 or be taken. */
  busPort?: number;
}

export interface ServerSpec {
  id: string;
  binary: string;
  dir: string;
  mode: 'server' | 'sentinel';
  needsBusPort?: boolean;
  /** The redis.conf body for the chosen ports. Written on first start only: Sentinel and Cluster rewrite their own files later. */
  config(ports: ServerPorts): string[];
  /** Tag put in the process title so leftovers of a crashed run can be found (see doctor). */
  titleTag: string;
}

export type ProcessState = 'running' | 'paused' | 'killed';

const START_ATTEMPTS = 5;

/** One redis-server (or sentinel) run as a non-daemonized child in its own process group. */
export class ServerProcess {
  readonly id: string;
  readonly spec: ServerSpec;
  readonly host = '127.0.0.1';
  port = 0;
  busPort: number | undefined;
  state: ProcessState = 'killed';
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #admin: Redis | undefined;
  #configPath: string;
  #logPath: string;
  /** Called when the process exits without us having asked (a crash, an OOM kill, an external kill). */
  onUnexpectedExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  #expectingExit = false;

  constructor(spec: ServerSpec) {
    this.id = spec.id;
    this.spec = spec;
    mkdirSync(spec.dir, { recursive: true });
    this.#configPath = join(spec.dir, spec.mode === 'sentinel' ? 'sentinel.conf' : 'redis.conf');
    this.#logPath = join(spec.dir, 'server.log');
  }

  get pid(): number | undefined {
    return this.state === 'killed' ? undefined : this.#child?.pid;
  }

  get logPath(): string {
    return this.#logPath;
  }

  /** First start: pick free ports, write the config, retry with new ports if one was taken meanwhile. */
  async startFresh(timeoutMs: number): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      this.port = await freePort(this.host);
      this.busPort = this.spec.needsBusPort ? await freePort(this.host) : undefined;
      writeFileSync(this.#configPath, `${this.spec.config({ port: this.port, busPort: this.busPort }).join('\n')}\n`);
      this.#admin?.disconnect();
      this.#admin = undefined;
      try {
        await this.#launch(timeoutMs);
        return;
      } catch (error) {
        lastError = error;
        if (!(error instanceof ServerStartError && /Address already in use/i.test(error.logTail))) throw error;
      }
    }
    throw lastError;
  }

  /** Start again on the same port with the config as the server last left it (it rejoins as itself). */
  async restart(timeoutMs: number): Promise<void> {
    if (this.state !== 'killed') return;
    await this.#launch(timeoutMs);
  }

  async #launch(timeoutMs: number): Promise<void> {
    const log = openSync(this.#logPath, 'a');
    const args = [this.#configPath, ...(this.spec.mode === 'sentinel' ? ['--sentinel'] : [])];
    let child: ChildProcess;
    try {
      child = spawn(this.spec.binary, args, { cwd: this.spec.dir, stdio: ['ignore', log, log], detached: true });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    this.#expectingExit = false;
    this.state = 'running';
    track(child);
    let exitInfo: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (this.#child === child) this.state = 'killed';
        untrack(child);
        if (!this.#expectingExit) this.onUnexpectedExit?.(code, signal);
        resolve();
      });
      child.once('error', (error) => {
        exitInfo = error.message;
        if (this.#child === child) this.state = 'killed';
        untrack(child);
        resolve();
      });
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
      return readFileSync(this.#logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
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
      this.#admin = new Redis({
        host: this.host,
        port: this.port,
        lazyConnect: false,
        enableOfflineQueue: false,
        enableReadyCheck: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1000,
        connectTimeout: 1000,
        retryStrategy: () => 50,
        connectionName: 'tokenbench-admin',
      });
      this.#admin.on('error', () => {});
    }
    return this.#admin;
  }

  async kill(): Promise<void> {
    if (this.state === 'killed' || !this.#child?.pid) return;
    this.#expectingExit = true;
    this.#signal('SIGCONT');
    this.#signal('SIGKILL');
    await this.#exited;
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.#signal('SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.#signal('SIGCONT');
    this.state = 'running';
  }

  /** Kill and close our connection. Data does not matter at stop, so no graceful SHUTDOWN. */
  async stop(): Promise<void> {
    await this.kill();
    this.#admin?.disconnect();
    this.#admin = undefined;
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {}
  }
}
