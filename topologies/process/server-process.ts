import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { type Launched, ManagedServer, type ServerLauncher, type ServerSpec } from '../server.ts';
import type { RedisBinary } from './redis-binary.ts';
import { track, untrack } from './registry.ts';

/** Marks our servers in `ps` so a crashed run's leftovers can be found (tokenbench doctor). */
export const TITLE_TAG_PREFIX = 'tokenbench-owner=';

/** One redis-server (or sentinel) run as a non-daemonized child in its own process group. */
export class ServerProcess extends ManagedServer {
  readonly binary: string;
  #child: ChildProcess | undefined;

  constructor(spec: ServerSpec, binary: string) {
    super(spec);
    this.binary = binary;
  }

  override get pid(): number | undefined {
    return this.state === 'killed' ? undefined : this.#child?.pid;
  }

  protected async launch(): Promise<Launched> {
    const log = openSync(this.logPath, 'a');
    const args = [this.configPath, ...(this.spec.mode === 'sentinel' ? ['--sentinel'] : [])];
    let child: ChildProcess;
    try {
      child = spawn(this.binary, args, { cwd: this.spec.dir, stdio: ['ignore', log, log], detached: true });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    track(child);
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => {
        untrack(child);
        resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
      });
      child.once('error', (error) => {
        untrack(child);
        resolve(error.message);
      });
    });
    return { exited };
  }

  /** SIGCONT first: a stopped process only dies of SIGKILL once it runs again. */
  protected async killNow(): Promise<void> {
    this.#signal('SIGCONT');
    this.#signal('SIGKILL');
  }

  protected async pauseNow(): Promise<void> {
    this.#signal('SIGSTOP');
  }

  protected async resumeNow(): Promise<void> {
    this.#signal('SIGCONT');
  }

  #signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch {}
  }
}

/** The embedded default: redis-server binaries from the host, children of this process. */
export function processLauncher(binary: RedisBinary): ServerLauncher {
  return {
    backend: 'process',
    describe: `${binary.flavor} ${binary.version} (${binary.path})`,
    configLines: () => [`proc-title-template "{title} {listen-addr} {server-mode} ${TITLE_TAG_PREFIX}${process.pid}"`],
    create: (spec) => new ServerProcess(spec, binary.path),
  };
}
