import { describe, expect, it } from 'vitest';
import { CI_FORMAT_NAMES, CI_FORMATS } from '../reports/outputs/formats.ts';
import { CI_OUTPUT_HELP, CI_OUTPUT_NAMES, REPORT_FORMATS, REPORT_HELP } from './report-flags.ts';

describe('report --help and the CI outputs it describes', () => {
  it('names every format of the registry, no other, each with the file run --ci-outputs writes', () => {
    expect(CI_OUTPUT_NAMES).toEqual(CI_FORMAT_NAMES);
    expect(REPORT_FORMATS).toEqual(['md', 'html', 'json', ...CI_FORMAT_NAMES]);
    for (const name of CI_FORMAT_NAMES) expect(CI_OUTPUT_HELP[name], name).toContain(`(${CI_FORMATS[name].file}`);
  });

  it('explains each format in a line, with examples', () => {
    for (const format of REPORT_FORMATS) expect(REPORT_HELP).toMatch(new RegExp(`^  ${format} +\\S`, 'm'));
    expect(REPORT_HELP).toContain('--format junit --out junit.xml');
    expect(REPORT_HELP).toContain('--format hdr-log --out');
  });
});
