import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../core/errors.ts';
import { SECRET, secretResult, sentinelResult } from '../../test/support/ci-results.ts';
import { writeCiOutputs } from '../write-reports.ts';
import { CI_FORMAT_NAMES, CI_FORMATS, ciOutputFiles, parseCiFormats } from './formats.ts';
import { ciRunNames, labelSlug } from './run-names.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-ci-formats-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('CI_FORMATS', () => {
  it('one file name per format, none the same', () => {
    expect(CI_FORMAT_NAMES).toEqual(['junit', 'benchmark-action', 'bencher', 'openmetrics', 'summary', 'hdr-log']);
    const files = Object.values(CI_FORMATS).map((f) => f.file);
    expect(new Set(files).size).toBe(files.length);
    expect(files).not.toContain('report.md');
  });

  it('no secret in any output of a result whose scenario and labels hold a password', async () => {
    const result = secretResult();
    for (const name of CI_FORMAT_NAMES.filter((n) => CI_FORMATS[n].kind === 'text')) {
      const [file] = await ciOutputFiles(name, result, scratch);
      expect(file!.text, name).not.toContain(SECRET);
      expect(file!.text.length, name).toBeGreaterThan(0);
    }
    // The label is still there, its password replaced.
    expect((await ciOutputFiles('junit', result, scratch))[0]!.text).toContain('http://svc:&lt;redacted&gt;@127.0.0.1:8080');
  });
});

describe('parseCiFormats', () => {
  it('a list, in the registry order, duplicates once; all is every one', () => {
    expect(parseCiFormats('summary, junit,summary')).toEqual(['junit', 'summary']);
    expect(parseCiFormats('all')).toEqual(CI_FORMAT_NAMES);
  });

  it.each([
    ['junt', "'junt'"],
    ['junit,,xml', "'xml'"],
    [' , ', "' , '"],
  ])('%j: one line naming the flag, the names it takes and what it got', (text, got) => {
    const error = (() => {
      try {
        parseCiFormats(text);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toBe(
      `--ci-outputs: expected a comma-separated list of junit, benchmark-action, bencher, openmetrics, summary, hdr-log, or all, got ${got}`,
    );
  });
});

describe('run names', () => {
  it('unique within a result, as every report says a run', () => {
    const runs = sentinelResult().runs;
    expect(ciRunNames([runs[0]!, runs[1]!, runs[0]!])).toEqual(['blacklist on sentinel', 'whitelist on sentinel', 'blacklist on sentinel #2']);
  });
  it('a label as a file name', () => {
    expect(labelSlug('blacklist (wait 1:100)')).toBe('blacklist-wait-1-100');
    expect(labelSlug('../..')).toBe('run');
  });
});

describe('writeCiOutputs', () => {
  it('writes each format beside report.md; one that fails is reported by file and the others are still written', async () => {
    const dir = mkdtempSync(join(scratch, 'write-'));
    const failed: string[] = [];
    // The fixture's history files are not there: hdr-log fails, nothing else does.
    const written = await writeCiOutputs(sentinelResult(), dir, CI_FORMAT_NAMES, (file, error) => failed.push(`${file}: ${error.message}`));
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual(['junit.xml', 'benchmark-action.json', 'bencher.json', 'metrics.om.txt', 'summary.md']);
    for (const path of written) expect(existsSync(path)).toBe(true);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^hdr\/: history\/history-0-blacklist\.ndjson: history file of run 'blacklist on sentinel' not found/);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('**verdict: valid');
  });

  it('nothing asked, nothing written', async () => {
    expect(await writeCiOutputs(sentinelResult(), join(scratch, 'none'), [])).toEqual([]);
    expect(existsSync(join(scratch, 'none'))).toBe(false);
  });
});
