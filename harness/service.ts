import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from '../core/errors.ts';
import type { ClientTarget, Endpoint } from '../topologies/client.ts';
import type { ClientOptions } from '../topologies/client-options.ts';
import { onExitSync } from '../topologies/exit-cleanup.ts';
import { OWNER_TAG_ENV } from '../topologies/process/leftovers.ts';
import { TITLE_TAG_PREFIX } from '../topologies/process/server-process.ts';
import type { ServiceOptions } from './scenario.ts';

/**
 * Marks every process of a service as ours for `tokenbench doctor`. An environment variable, not
 * an argument: a shell may exec a simple command in place, which drops the shell's argv, but the
 * environment is inherited by the service and by every process it starts.
 */
export const SERVICE_OWNER_ENV = OWNER_TAG_ENV;

/** What `{{port}}` stands for: the port the service printed. */
export const PORT_PLACEHOLDER = '{{port}}';

const LOG_TAIL_LINES = 12;
/** Only the start of the log is searched for the port line: it comes before any request is served. */
const PORT_SEARCH_BYTES = 64 * 1024;
const PROBE_TIMEOUT_MS = 2000;
const FIRST_PROBE_DELAY_MS = 25;
const MAX_PROBE_DELAY_MS = 500;

/** Process groups of services still running: killed on every way out of the process (see exit-cleanup.ts). */
const liveGroups = new Set<number>();
let cleanupInstalled = false;

function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  onExitSync(() => {
    for (const group of liveGroups) signalGroup(group, 'SIGCONT');
    for (const group of liveGroups) signalGroup(group, 'SIGKILL');
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

const hostPort = (e: Endpoint) => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`;

/**
 * The topology's endpoints as environment variables under `names`: a URL for a single node, the
 * sentinels and master name, or the cluster's nodes; credentials (external backend, or the
 * scenario's client options) in the URL and in variables of their own. Computed at run time only,
 * never written: the scenario holds no credentials of the deployment.
 */
export function serviceEnvironment(target: ClientTarget, names: ServiceOptions['envNames'], client: ClientOptions = {}): Record<string, string> {
  const username = target.access?.username ?? client.username;
  const password = target.access?.password ?? client.password;
  const env: Record<string, string> = {};
  switch (target.kind) {
    case 'single': {
      const userinfo =
        password !== undefined
          ? `${encodeURIComponent(username ?? '')}:${encodeURIComponent(password)}@`
          : username !== undefined
            ? `${encodeURIComponent(username)}@`
            : '';
      env[names.url] = `${target.access?.tls ? 'rediss' : 'redis'}://${userinfo}${hostPort(target.endpoint)}`;
      break;
    }
    case 'sentinel':
      env[names.sentinels] = target.sentinels.map(hostPort).join(',');
      env[names.masterName] = target.masterName;
      break;
    case 'cluster':
      env[names.clusterNodes] = target.nodes.map(hostPort).join(',');
      break;
  }
  if (username !== undefined) env[names.username] = username;
  if (password !== undefined) env[names.auth] = password;
  if (target.access?.sentinelPassword !== undefined) env[names.sentinelAuth] = target.access.sentinelPassword;
  return env;
}

/** Every `{{port}}` in the strategy's options (an http strategy's `http.baseUrl`) replaced by the port the service printed. */
export function resolveServicePort<T>(options: T, port: number | undefined, command = 'the service'): T {
  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      if (!node.includes(PORT_PLACEHOLDER)) return node;
      if (port === undefined) throw new ServiceError(command, `printed no port, and ${path} holds ${PORT_PLACEHOLDER} (see service.portPattern)`, '');
      return node.replaceAll(PORT_PLACEHOLDER, String(port));
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, `${path}[${i}]`));
    if (typeof node === 'object' && node !== null)
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value, path ? `${path}.${key}` : key)]));
    return node;
  };
  return walk(options, '') as T;
}

export interface ServiceContext {
  target: ClientTarget;
  client?: ClientOptions;
  /** Where its stdout and stderr go. */
  logPath: string;
  /** TOKENBENCH_RUN: which run of the scenario this service serves. */
  runLabel: string;
  signal?: AbortSignal;
}

/** A started, ready service. stop() is idempotent and never throws. */
export interface RunningService {
  readonly pid: number;
  /** The port it printed; undefined when its output matched no portPattern. */
  readonly port: number | undefined;
  readonly logPath: string;
  /** How it ended, once it has: `exited with code 1`, `killed by SIGTERM`. */
  readonly exit: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the service and waits until its readiness URL answers 2xx. On a failure (it exits, it is
 * not ready in time, the run is interrupted) its process group is stopped before the error is
 * thrown: nothing is left running.
 */
export async function startService(options: ServiceOptions, ctx: ServiceContext): Promise<RunningService> {
  ctx.signal?.throwIfAborted();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...serviceEnvironment(ctx.target, options.envNames, ctx.client),
    PORT: '0',
    TOKENBENCH_RUN: ctx.runLabel,
    ...options.env,
    [SERVICE_OWNER_ENV]: `${TITLE_TAG_PREFIX}${process.pid}`,
  };
  const log = openSync(ctx.logPath, 'w');
  let child: ChildProcess;
  try {
    // Its own process group: a terminal's Ctrl-C reaches tokenbench, which stops the service after the load.
    child = spawn('sh', ['-c', options.command], { stdio: ['ignore', log, log], detached: true, env });
  } finally {
    closeSync(log);
  }
  const service = new Service(options, ctx.logPath, child);
  try {
    await service.waitUntilReady(ctx.signal);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}

class Service implements RunningService {
  readonly #options: ServiceOptions;
  readonly #child: ChildProcess;
  readonly logPath: string;
  #exit: string | undefined;
  readonly #exited: Promise<void>;
  #port: number | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: ServiceOptions, logPath: string, child: ChildProcess) {
    this.#options = options;
    this.#child = child;
    this.logPath = logPath;
    if (child.pid !== undefined) trackGroup(child.pid);
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
      child.once('error', (error) => {
        this.#exit ??= `could not be started: ${error.message}`;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get port(): number | undefined {
    return this.#port;
  }

  get exit(): string | undefined {
    return this.#exit;
  }

  #fail(detail: string): ServiceError {
    return new ServiceError(this.#options.command, `${detail} (log: ${this.logPath})`, logTail(this.logPath));
  }

  async waitUntilReady(signal: AbortSignal | undefined): Promise<void> {
    const { url, timeout } = this.#options.ready;
    const deadline = performance.now() + timeout;
    const pattern = new RegExp(this.#options.portPattern);
    const needsPort = url.includes(PORT_PLACEHOLDER);
    let lastSeen = needsPort ? `no line matching /${pattern.source}/ in its output yet` : 'no answer yet';
    let lastAnswered = false;
    let delay = FIRST_PROBE_DELAY_MS;
    for (;;) {
      signal?.throwIfAborted();
      if (this.#exit) throw this.#fail(`${this.#exit} before it was ready; the readiness probe last saw: ${lastSeen}`);
      this.#port ??= findPort(this.logPath, pattern);
      if (!needsPort || this.#port !== undefined) {
        const target = url.replaceAll(PORT_PLACEHOLDER, String(this.#port));
        const probeTimeout = Math.max(1, Math.min(PROBE_TIMEOUT_MS, deadline - performance.now()));
        const answer = await probe(target, probeTimeout);
        if (answer.ok) return;
        // A last probe cut short by the deadline says less than an answer seen before it.
        const cutShort = answer.timedOut && probeTimeout < PROBE_TIMEOUT_MS && lastAnswered;
        if (!cutShort) lastSeen = `${target}: ${answer.seen}`;
        lastAnswered ||= !answer.timedOut;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw this.#fail(`was not ready after ${timeout} ms; the readiness probe last saw: ${lastSeen}`);
      await Promise.race([sleep(Math.min(delay, left), undefined, { signal }).catch(() => {}), this.#exited]);
      delay = Math.min(delay * 2, MAX_PROBE_DELAY_MS);
    }
  }

  /** SIGTERM to the whole process group (the shell and whatever it started), SIGKILL after stopTimeout; resolves once the group is gone. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopGroup();
    return this.#stopping;
  }

  async #stopGroup(): Promise<void> {
    const pgid = this.#child.pid;
    if (pgid === undefined) return;
    signalGroup(pgid, 'SIGCONT');
    signalGroup(pgid, 'SIGTERM');
    if (!(await groupGone(pgid, this.#options.stopTimeout))) {
      signalGroup(pgid, 'SIGKILL');
      await groupGone(pgid, this.#options.stopTimeout);
    }
    await Promise.race([this.#exited, sleep(this.#options.stopTimeout)]);
    liveGroups.delete(pgid);
  }
}

/**
 * Whether a process of the group still runs. A shell's child outlives the shell and is reparented
 * to init, which may reap it late: a zombie answers kill(0) but is dead, so /proc is asked where it
 * exists (state Z is gone).
 */
function groupRunning(pgid: number): boolean {
  if (!existsSync('/proc')) return signalGroup(pgid, 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // After the command name (in parentheses, may hold spaces): state, ppid, pgrp.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (groupRunning(pgid)) {
    if (performance.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

function findPort(logPath: string, pattern: RegExp): number | undefined {
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8').slice(0, PORT_SEARCH_BYTES);
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const match = pattern.exec(line);
    const port = Number(match?.[1]);
    if (Number.isInteger(port) && port > 0 && port < 65536) return port;
  }
  return undefined;
}

export function logTail(logPath: string, lines = LOG_TAIL_LINES): string {
  try {
    return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** One GET on a fresh connection: 2xx is ready; anything else is what the error says the probe last saw. */
function probe(url: string, timeoutMs: number): Promise<{ ok: boolean; seen: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    let request: ReturnType<typeof httpRequest>;
    try {
      request = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { method: 'GET', agent: false, timeout: timeoutMs }, (response) => {
        response.resume();
        const status = response.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, seen: `HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, timedOut: false });
      });
    } catch (error) {
      resolve({ ok: false, seen: (error as Error).message, timedOut: false });
      return;
    }
    let timedOut = false;
    request.on('timeout', () => {
      timedOut = true;
      request.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, seen: error.code ?? error.message, timedOut }));
    request.end();
  });
}
