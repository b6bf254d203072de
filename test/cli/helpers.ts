import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const BIN = fileURLToPath(new URL('../../bin/tokenbench.js', import.meta.url));

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** `env` adds to the test's environment; a name set to undefined is removed from it. */
export async function tokenbench(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], { reject: false, env: { TOKENBENCH_NO_INSTALL: '1', ...env } });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Our servers carry tokenbench-owner=<pid> in their title: find the ones a given process started. */
export function serversOwnedBy(ownerPid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.includes(`tokenbench-owner=${ownerPid} `) || title.endsWith(`tokenbench-owner=${ownerPid}`) || title.includes(`tokenbench-owner=${ownerPid}\0`))
        pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** The first line a long-running command prints on stdout (e.g. `topology up --json`); fails if it exits first. */
export function firstStdoutLine(child: ResultPromise): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('\n')) resolve(buffer.split('\n')[0]!);
    });
    void child.then((r) => reject(new Error(`exited early: ${r.stderr}`)));
  });
}

/** Off a terminal, a run prints a line as each strategy run ends (cli/run-ui.ts): what is left of stderr besides them. */
export function stderrBesidesRunLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line !== '' && !/^\[[^\]]+\] done in \d+(\.\d+)? s {2}\(run \d+\/\d+ · /.test(line))
    .join('\n');
}
