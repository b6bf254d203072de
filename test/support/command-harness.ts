import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

/**
 * Test support for CLI commands run in process: a temp dir to write result files into, and a
 * runner that returns the exit code with everything the command printed on stdout.
 */
export function commandHarness(prefix: string, command: (argv: string[]) => Promise<number>) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const write = (name: string, data: unknown): string => {
    const path = join(dir, name);
    writeFileSync(path, typeof data === 'string' ? data : JSON.stringify(data));
    return path;
  };
  const run = async (argv: string[]): Promise<{ code: number; out: string }> => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      return { code: await command(argv), out };
    } finally {
      vi.restoreAllMocks();
    }
  };
  return { dir, write, run, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
