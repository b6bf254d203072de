import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { FaultError, InvalidOptionError } from '../../core/errors.ts';
import { onExitSync } from '../exit-cleanup.ts';
import { which } from '../process/redis-binary.ts';
import { TITLE_TAG_PREFIX } from '../process/server-process.ts';
import type { AddressBlock } from './address-block.ts';

export {
  composeLinks,
  type LinkEffect,
  type LinkRule,
  NetworkFaults,
  networkFaultSupport,
  queueNumber,
  renderInputChain,
  TABLE_NAME_PATTERN,
  tableName,
  validateRules,
};

type LinkEffect = { kind: 'drop' } | { kind: 'loss'; percent: number } | { kind: 'delay'; delayMs: number; jitterMs: number };

/** One direction: packets with saddr = from, daddr = to, arriving on lo. */
interface LinkRule {
  from: string;
  to: string;
  effect: LinkEffect;
}

/** What one direction of one pair suffers once every active fault is taken into account. */
interface Link {
  from: string;
  to: string;
  drop: boolean;
  /** Each an independent draw, so 50 and 50 lose 75 %. */
  lossPercents: number[];
  /** Delays (and jitters) of several faults add up, like two slow hops in a row. */
  delay?: { delayMs: number; jitterMs: number };
}

/** `tokenbench_<pid>_<k>`: the owner's pid lets `tokenbench doctor` tell a dead run's table from a live one. */
const TABLE_NAME_PATTERN = /^tokenbench_(\d+)_(\d+)$/;
const tableName = (pid: number, blockIndex: number) => `tokenbench_${pid}_${blockIndex}`;

/** Distinct delay settings one table can hold at once: one NFQUEUE each, numbered apart from other runs' blocks. */
const QUEUES_PER_BLOCK = 16;
const queueNumber = (blockIndex: number, n: number) => 30000 + blockIndex * QUEUES_PER_BLOCK + n;

const MAX_DELAY_MS = 60_000;

function validateRules(rules: readonly LinkRule[]): void {
  rules.forEach((rule, i) => {
    const field = `rules[${i}]`;
    // The addresses go into nft's input text: nothing but a dotted quad may get there.
    if (typeof rule.from !== 'string' || !isIPv4(rule.from)) throw new InvalidOptionError(`${field}.from`, 'an IPv4 address', rule.from);
    if (typeof rule.to !== 'string' || !isIPv4(rule.to)) throw new InvalidOptionError(`${field}.to`, 'an IPv4 address', rule.to);
    const effect = rule.effect;
    switch (effect?.kind) {
      case 'drop':
        return;
      case 'loss':
        if (!(typeof effect.percent === 'number' && effect.percent > 0 && effect.percent <= 100))
          throw new InvalidOptionError(`${field}.effect.percent`, 'a number in (0, 100]', effect.percent);
        return;
      case 'delay':
        if (!(typeof effect.delayMs === 'number' && effect.delayMs >= 0 && effect.delayMs <= MAX_DELAY_MS))
          throw new InvalidOptionError(`${field}.effect.delayMs`, `a number of ms in 0..${MAX_DELAY_MS}`, effect.delayMs);
        if (!(typeof effect.jitterMs === 'number' && effect.jitterMs >= 0 && effect.jitterMs <= MAX_DELAY_MS))
          throw new InvalidOptionError(`${field}.effect.jitterMs`, `a number of ms in 0..${MAX_DELAY_MS}`, effect.jitterMs);
        return;
      default:
        throw new InvalidOptionError(`${field}.effect.kind`, "'drop', 'loss' or 'delay'", (effect as { kind?: unknown } | undefined)?.kind);
    }
  });
}

/** All active faults' rules, pair by pair: a drop wins over everything else on its pair. */
function composeLinks(rules: Iterable<LinkRule>): Link[] {
  const links = new Map<string, Link>();
  for (const { from, to, effect } of rules) {
    const key = `${from}>${to}`;
    let link = links.get(key);
    if (!link) {
      link = { from, to, drop: false, lossPercents: [] };
      links.set(key, link);
    }
    if (effect.kind === 'drop') link.drop = true;
    else if (effect.kind === 'loss') link.lossPercents.push(effect.percent);
    else link.delay = { delayMs: (link.delay?.delayMs ?? 0) + effect.delayMs, jitterMs: (link.delay?.jitterMs ?? 0) + effect.jitterMs };
  }
  for (const link of links.values()) {
    if (link.drop) {
      link.lossPercents = [];
      delete link.delay;
    }
  }
  return [...links.values()];
}

/**
 * The nft transaction that makes the input chain hold exactly `links`' drops and losses: one
 * `nft -f -` is atomic, so overlapping faults compose and a heal leaves no trace. The chain is
 * flushed rather than the table deleted, because the delay chain beside it is written by the holder.
 */
function renderInputChain(table: string, links: readonly Link[]): string {
  const lines = [
    `table inet ${table} {`,
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '  }',
    '}',
    `flush chain inet ${table} input`,
  ];
  const match = (link: Link) => `add rule inet ${table} input iif "lo" ip saddr ${link.from} ip daddr ${link.to}`;
  for (const link of links) {
    if (link.drop) lines.push(`${match(link)} drop`);
    // Basis points: 0.5 % is as expressible as 50 %.
    for (const percent of link.lossPercents) lines.push(`${match(link)} numgen random mod 10000 < ${Math.round(percent * 100)} drop`);
  }
  return `${lines.join('\n')}\n`;
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n').find((line) => line.trim() !== '') ?? '(no output)';
}

async function nft(script: string): Promise<void> {
  const result = await execa('nft', ['-f', '-'], { input: script, reject: false, timeout: 10_000 });
  if (result.exitCode !== 0) throw new FaultError(`nft failed: ${firstLine(result.stderr || result.message)}`);
}

function deleteTableSync(table: string): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', table], { stdio: 'ignore', timeout: 5000 });
  } catch {}
}

const HOLDER_SCRIPT = fileURLToPath(new URL('./delay-holder.py', import.meta.url));

/** The python process that holds queued packets (delay-holder.py) and writes the delay chain. */
class DelayHolder {
  private readonly child: ChildProcess;
  private readonly waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private buffered = '';
  private exited: Error | undefined;

  constructor() {
    this.child = spawn('python3', [HOLDER_SCRIPT, `${TITLE_TAG_PREFIX}${process.pid}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    this.child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString();
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.resolve(line);
      }
    });
    const gone = (why: string) => {
      this.exited ??= new FaultError(
        `the delay holder (python3 ${HOLDER_SCRIPT}) ${why}${stderr ? `: ${firstLine(stderr.split('\n').slice(-3).join('\n'))}` : ''}`,
      );
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    };
    this.child.on('error', (error) => gone(`could not start: ${error.message}`));
    this.child.on('exit', (code, signal) => gone(`exited (${signal ?? `code ${code}`})`));
    // stdin's end is the holder's cue to exit; a write to it after the holder died must not crash us.
    this.child.stdin!.on('error', () => {});
    this.unref();
  }

  /** The holder must not keep a finished program alive, but must while we wait for its answer. */
  private unref(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  private nextLine(): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    this.child.ref();
    (this.child.stdout as unknown as { ref?: () => void }).ref?.();
    return new Promise<string>((resolve, reject) => this.waiting.push({ resolve, reject })).finally(() => {
      if (this.waiting.length === 0) this.unref();
    });
  }

  async ready(): Promise<void> {
    const line = await this.nextLine();
    if (line !== 'ready') throw new FaultError(`the delay holder did not start: said '${line}'`);
  }

  private async command(line: string): Promise<void> {
    const answer = this.nextLine();
    this.child.stdin!.write(`${line}\n`);
    const reply = await answer;
    if (!reply.startsWith('ok')) throw new FaultError(`the delay holder refused '${line.slice(0, 80)}': ${reply.replace(/^error \S+ /, '')}`);
  }

  setQueue(queue: number, delayMs: number, jitterMs: number): Promise<void> {
    return this.command(`set ${queue} ${delayMs} ${jitterMs}`);
  }

  writeChain(table: string, rules: readonly { from: string; to: string; queue: number }[]): Promise<void> {
    return this.command(['chain', table, ...rules.map((r) => `${r.from},${r.to},${r.queue}`)].join(' '));
  }

  /** stdin's end makes the holder release what it holds and exit; SIGKILL if it does not within 2 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  killSync(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}

/**
 * Network faults between the addresses of one block, as rules in one nftables table of this run's
 * own (`inet tokenbench_<pid>_<k>`, hook input, on lo only): nothing else on the machine changes.
 * Drops and losses are native nft rules, rewritten in one transaction per change; delays are
 * NFQUEUE rules in a second chain, written by the delay holder (Debian's kernel has no native nft
 * queue expression, and the nft tool cannot write the xtables one), whose packets it holds.
 */
class NetworkFaults {
  readonly table: string;
  private faults = new Map<string, readonly LinkRule[]>();
  private holder: DelayHolder | undefined;
  /** Delay setting `delayMs/jitterMs` -> its queue number; kept while unused, so a setting reused gets its queue back. */
  private readonly queues = new Map<string, number>();
  private delayChain = '[]';
  private serial: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly block: AddressBlock) {
    this.table = tableName(process.pid, block.index);
  }

  static async open(block: AddressBlock): Promise<NetworkFaults> {
    const faults = new NetworkFaults(block);
    onExitSync(() => faults.closeSync());
    await nft(renderInputChain(faults.table, []));
    return faults;
  }

  get active(): readonly string[] {
    return [...this.faults.keys()];
  }

  /** The pid of the delay holder while one runs (the first delay starts it). */
  get holderPid(): number | undefined {
    return this.holder?.pid;
  }

  /** Applies a fault; resolves with process.hrtime.bigint() taken right after the kernel had it. */
  add(faultId: string, rules: readonly LinkRule[]): Promise<bigint> {
    return this.serialized(async () => {
      validateRules(rules);
      if (this.faults.has(faultId)) throw new FaultError(`network fault '${faultId}' is already active`);
      const next = new Map(this.faults).set(faultId, [...rules]);
      return this.apply(next);
    });
  }

  /** Heals one fault exactly: the table is rewritten from the faults still active. */
  remove(faultId: string): Promise<bigint> {
    return this.serialized(async () => {
      if (!this.faults.has(faultId)) throw new FaultError(`network fault '${faultId}' is not active (active: ${this.active.join(', ') || 'none'})`);
      const next = new Map(this.faults);
      next.delete(faultId);
      return this.apply(next);
    });
  }

  /** Deletes the table and stops the holder; idempotent. */
  close(): Promise<void> {
    return this.serialized(async () => {
      if (this.closed) return;
      this.closed = true;
      this.faults.clear();
      const result = await execa('nft', ['delete', 'table', 'inet', this.table], { reject: false, timeout: 10_000 });
      await this.holder?.stop();
      if (result.exitCode !== 0 && !/No such file/.test(result.stderr)) throw new FaultError(`nft failed: ${firstLine(result.stderr)}`);
    });
  }

  private closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    deleteTableSync(this.table);
    this.holder?.killSync();
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.serial.then(step, step);
    this.serial = run.catch(() => {});
    return run;
  }

  private async apply(next: Map<string, readonly LinkRule[]>): Promise<bigint> {
    if (this.closed) throw new FaultError(`network faults of table ${this.table} are closed`);
    try {
      await this.write(next);
    } catch (error) {
      // Back to what was active, so a failed change does not leave half of itself behind.
      await this.write(this.faults).catch(() => {});
      throw error;
    }
    const tookEffect = process.hrtime.bigint();
    this.faults = next;
    return tookEffect;
  }

  private async write(faults: Map<string, readonly LinkRule[]>): Promise<void> {
    const links = composeLinks([...faults.values()].flat());
    const delayed = links.filter((link) => link.delay !== undefined);
    const delayRules: { from: string; to: string; queue: number }[] = [];
    if (delayed.length > 0 || this.holder) {
      const holder = await this.startHolder();
      for (const link of delayed) {
        const { delayMs, jitterMs } = link.delay!;
        const queue = this.queueFor(`${delayMs}/${jitterMs}`, delayed);
        await holder.setQueue(queue, delayMs, jitterMs);
        delayRules.push({ from: link.from, to: link.to, queue });
      }
    }
    await nft(renderInputChain(this.table, links));
    const chain = JSON.stringify(delayRules);
    if (chain !== this.delayChain) {
      await this.holder!.writeChain(this.table, delayRules);
      this.delayChain = chain;
    }
  }

  private queueFor(setting: string, inUse: readonly Link[]): number {
    const known = this.queues.get(setting);
    if (known !== undefined) return known;
    const taken = new Set(inUse.map((link) => this.queues.get(`${link.delay!.delayMs}/${link.delay!.jitterMs}`)));
    for (let n = 0; n < QUEUES_PER_BLOCK; n++) {
      const queue = queueNumber(this.block.index, n);
      if (taken.has(queue)) continue;
      for (const [other, q] of this.queues) if (q === queue) this.queues.delete(other);
      this.queues.set(setting, queue);
      return queue;
    }
    throw new FaultError(`network faults: at most ${QUEUES_PER_BLOCK} distinct delay settings at once (delayMs/jitterMs after composing faults)`);
  }

  private async startHolder(): Promise<DelayHolder> {
    if (!this.holder) {
      this.holder = new DelayHolder();
      await this.holder.ready();
    }
    return this.holder;
  }
}

let support: Map<boolean, Promise<string | undefined>> | undefined;

/** Undefined when network faults can run here; otherwise one line saying why not. Probed once per process. */
function networkFaultSupport(needs: { delay?: boolean } = {}): Promise<string | undefined> {
  support ??= new Map();
  const delay = Boolean(needs.delay);
  let found = support.get(delay);
  if (!found) {
    found = probe(delay);
    support.set(delay, found);
  }
  return found;
}

async function probe(delay: boolean): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network faults need Linux (nftables); this is ${process.platform}`;
  const uid = process.getuid?.();
  if (uid !== 0) return `network faults need root (they change the kernel's packet filter); running as uid ${uid}`;
  if (!which('nft')) return 'network faults need `nft` on PATH: apt-get install nftables';
  if (delay) {
    if (!which('python3')) return 'network delay needs python3 on PATH (its packet holder): apt-get install python3';
    if (!existsSync('/proc/net/netfilter/nfnetlink_queue'))
      return "network delay needs the kernel's nfnetlink_queue (CONFIG_NETFILTER_NETLINK_QUEUE), absent here";
  }
  // Block index 0 is never allocated: the probe's table cannot be mistaken for a run's, and doctor finds it if we die mid-probe.
  const table = tableName(process.pid, 0);
  try {
    await nft(renderInputChain(table, []));
    if (delay) {
      const holder = new DelayHolder();
      try {
        await holder.ready();
        await holder.writeChain(table, [{ from: '127.77.0.1', to: '127.77.0.2', queue: queueNumber(0, 0) }]);
      } catch (error) {
        return `network delay cannot work here: ${(error as Error).message}`;
      } finally {
        await holder.stop();
      }
    }
  } catch (error) {
    return `nft refuses to create a table: ${(error as Error).message.replace(/^nft failed: /, '')}`;
  } finally {
    deleteTableSync(table);
  }
  return undefined;
}
