import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultFile } from '../../cli/run-command.ts';
import { STAGES_ENV } from '../../cli/run-ui.ts';
import { DATA_DIR_PREFIX } from '../../topologies/owned/base.ts';
import { BIN, serversOwnedBy } from './helpers.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-interrupt-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Short runs with a kill: 300 ms warm-up, 2 s measured, primary killed at 800 ms. A 2 s settle
// bounds the heal, which on Sentinel otherwise waits ~10 s for the sentinels' view (the heal is a
// stage like the others here, not what is tested).
const WARMUP_MS = 300;
const FAULT_AT_MS = 800;
const RUN_ARGS = ['--strategy', 'blacklist,whitelist', '--quick', '--duration', '2s', '--fault', `kill:primary@${FAULT_AT_MS}ms`, '--set', 'load.settle=2s'];

/**
 * When to interrupt: `after` ms past the `nth` stage line containing `stage` (stage lines are on
 * stderr with TOKENBENCH_STAGES=1). Offsets within the measured phase are planned times from the
 * warm-up line, with margins of hundreds of ms; wherever a moment lands, the outcome must be the same.
 */
interface Moment {
  name: string;
  stage: string;
  nth?: number;
  after: number;
  signal?: 'SIGINT' | 'SIGTERM';
  /** A second signal this long after the first: quit at once. */
  again?: number;
}

const MOMENTS: Moment[] = [
  { name: 'starting the topology', stage: 'starting', after: 0 },
  { name: 'starting the topology, servers up', stage: 'starting', after: 1000 },
  { name: 'logging sessions in', stage: 'logging in', after: 0 },
  { name: 'warming up', stage: 'warming up', after: 100 },
  { name: 'measuring, before the fault (SIGTERM)', stage: 'warming up', after: WARMUP_MS + 400, signal: 'SIGTERM' },
  { name: 'the fault just applied', stage: 'warming up', after: WARMUP_MS + FAULT_AT_MS + 100 },
  { name: 'failing over', stage: 'warming up', after: WARMUP_MS + FAULT_AT_MS + 900 },
  { name: 'healing faults', stage: 'healing faults', after: 0 },
  { name: 'settling', stage: 'healing faults', after: 1000 },
  { name: 'settling, twice: quit at once', stage: 'healing faults', after: 200, again: 100 },
  { name: 'final reconciliation', stage: 'final reconciliation', after: 0 },
  { name: 'checking the history', stage: 'checking the history', after: 0 },
  { name: 'stopping the topology', stage: 'stopping topology', after: 0 },
  { name: 'starting the second run', stage: 'starting', nth: 2, after: 0 },
];

const STAGE_LINE = /^\[.+ on (single|sentinel|cluster)\] /;

interface Outcome {
  moment: string;
  exitCode: number | undefined;
  /** stderr without stage lines, the scenario's warnings (printed before anything runs) and blank lines. */
  lines: string[];
  servers: number[];
  dirs: string[];
  result: { interrupted: boolean; runs: number } | 'missing';
}

/** This run's topology data dirs still in the temp dir: owner.json names the run's pid. */
function dataDirsOf(pid: number): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith(DATA_DIR_PREFIX))
    .filter((name) => {
      try {
        return (JSON.parse(readFileSync(join(tmpdir(), name, 'owner.json'), 'utf8')) as { pid?: number }).pid === pid;
      } catch {
        return false;
      }
    });
}

async function interruptAt(topology: string, moment: Moment): Promise<Outcome> {
  const out = join(scratch, `${topology}-${moment.name.replace(/\W+/g, '-')}`);
  const child = execa('node', [BIN, 'run', '--topology', topology, ...RUN_ARGS, '--out', out], {
    reject: false,
    env: { TOKENBENCH_NO_INSTALL: '1', [STAGES_ENV]: '1' },
  });
  let stderr = '';
  let sent = false;
  const reached = new Promise<boolean>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const seen = stderr.split('\n').filter((line) => STAGE_LINE.test(line) && line.includes(`] ${moment.stage}`)).length;
      if (seen >= (moment.nth ?? 1)) resolve(true);
    });
    void child.then(() => resolve(false));
  });
  if (await reached) {
    setTimeout(() => {
      sent = child.kill(moment.signal ?? 'SIGINT');
      if (moment.again !== undefined) setTimeout(() => child.kill('SIGINT'), moment.again);
    }, moment.after);
  }
  const r = await child;
  const pid = child.pid!;
  // After a second signal the servers got SIGKILL as the process left: give them time to go.
  for (const deadline = Date.now() + 10_000; serversOwnedBy(pid).length > 0 && Date.now() < deadline; ) await sleep(100);
  const resultPath = join(out, 'result.json');
  const result = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as ResultFile) : undefined;
  return {
    moment: sent ? moment.name : `${moment.name}: exited before the signal`,
    exitCode: r.exitCode,
    lines: r.stderr.split('\n').filter((line) => line.trim() !== '' && !STAGE_LINE.test(line) && !line.startsWith('tokenbench: warning: ')),
    servers: serversOwnedBy(pid),
    dirs: dataDirsOf(pid),
    result: result ? { interrupted: result.interrupted, runs: result.runs.length } : 'missing',
  };
}

function expected(moment: Moment, outcome: Outcome): Outcome {
  return {
    moment: moment.name,
    exitCode: 130,
    lines: [`${moment.signal ?? 'SIGINT'}: stopping the load, healing faults, writing the partial result (again to quit at once)`],
    servers: [],
    dirs: [],
    // Quitting at once writes nothing more: result.json is there only if a run had completed.
    result:
      moment.again !== undefined && outcome.result === 'missing'
        ? 'missing'
        : { interrupted: true, runs: typeof outcome.result === 'object' ? outcome.result.runs : 0 },
  };
}

// The two topologies side by side: each is a chain of short runs, one interrupt each (about a minute).
describe.concurrent('Ctrl-C at any moment of `tokenbench run`', () => {
  for (const topology of ['sentinel', 'cluster']) {
    it(`on ${topology}: exit 130, one line, no server, no temp dir, result.json marked interrupted`, async () => {
      const outcomes: Outcome[] = [];
      for (const moment of MOMENTS) outcomes.push(await interruptAt(topology, moment));
      expect(outcomes).toEqual(MOMENTS.map((m, i) => expected(m, outcomes[i]!)));
      // Interrupted during the first start: still a file, with no runs. After a completed run: that run is kept.
      expect(outcomes[0]!.result).toEqual({ interrupted: true, runs: 0 });
      expect(outcomes.at(-1)!.result).toEqual({ interrupted: true, runs: 1 });
    }, 180_000);
  }
});

describe('Ctrl-C while `topology up` is starting', () => {
  it('exit 130, one line, no server, no temp dir', async () => {
    const outcomes: unknown[] = [];
    for (const after of [0, 1000]) {
      const child = execa('node', [BIN, 'topology', 'up', 'sentinel'], { reject: false, env: { TOKENBENCH_NO_INSTALL: '1' } });
      await new Promise<void>((resolve) => child.stderr!.once('data', () => resolve()));
      setTimeout(() => child.kill('SIGINT'), after);
      const r = await child;
      outcomes.push({ after, exitCode: r.exitCode, stderr: r.stderr, stdout: r.stdout, servers: serversOwnedBy(child.pid!), dirs: dataDirsOf(child.pid!) });
    }
    // Sentinels find each other by hello messages every 2 s: both signals come while it starts, on any machine.
    expect(outcomes).toEqual(
      [0, 1000].map((after) => ({ after, exitCode: 130, stderr: 'starting sentinel topology...\nSIGINT: stopping...', stdout: '', servers: [], dirs: [] })),
    );
  });
});
