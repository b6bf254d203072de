import { InvalidOptionError } from '../../core/errors.ts';
import type { ResultFile } from '../../result/schema.ts';
import { renderBencher } from './bencher.ts';
import { renderBenchmarkAction } from './benchmark-action.ts';
import { type CiOutputFile, renderHdrLogs } from './hdr-log.ts';
import { renderJunit } from './junit.ts';
import { renderOpenMetrics } from './openmetrics.ts';
import { renderSummary } from './summary.ts';

export type { CiOutputFile } from './hdr-log.ts';

/** A CI output that is one file, rendered from the result alone. */
export interface TextCiFormat {
  kind: 'text';
  /** The file `tokenbench run --ci-outputs` writes in the run's out dir. */
  file: string;
  render(result: ResultFile): string;
}

/** A CI output of several files, built from the run's history files as well: `file` is the directory they go in. */
export interface FilesCiFormat {
  kind: 'files';
  file: string;
  render(result: ResultFile, resultDir: string): Promise<CiOutputFile[]>;
}

export type CiFormat = TextCiFormat | FilesCiFormat;

/**
 * Every CI output, by the name `--ci-outputs` and `report --format` take. cli/report-flags.ts
 * describes each for --help (which does not load this file); cli/report-flags.test.ts holds the
 * two lists equal.
 */
export const CI_FORMATS = {
  junit: { kind: 'text', file: 'junit.xml', render: renderJunit },
  'benchmark-action': { kind: 'text', file: 'benchmark-action.json', render: renderBenchmarkAction },
  bencher: { kind: 'text', file: 'bencher.json', render: renderBencher },
  openmetrics: { kind: 'text', file: 'metrics.om.txt', render: renderOpenMetrics },
  summary: { kind: 'text', file: 'summary.md', render: renderSummary },
  'hdr-log': { kind: 'files', file: 'hdr', render: renderHdrLogs },
} as const satisfies Record<string, CiFormat>;

export type CiFormatName = keyof typeof CI_FORMATS;
export const CI_FORMAT_NAMES = Object.keys(CI_FORMATS) as CiFormatName[];

export function isCiFormatName(name: string): name is CiFormatName {
  return Object.hasOwn(CI_FORMATS, name);
}

/** `junit,summary` or `all` -> the formats, in the registry's order; an unknown name is an error naming the flag. */
export function parseCiFormats(text: string, flag = '--ci-outputs'): CiFormatName[] {
  const expected = `a comma-separated list of ${CI_FORMAT_NAMES.join(', ')}, or all`;
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidOptionError(flag, expected, text);
  if (names.includes('all')) return [...CI_FORMAT_NAMES];
  const unknown = names.find((name) => !isCiFormatName(name));
  if (unknown !== undefined) throw new InvalidOptionError(flag, expected, unknown);
  return CI_FORMAT_NAMES.filter((name) => names.includes(name));
}

/** The files a format makes for a result, each path relative to the run's out dir (`hdr/0-blacklist.hlog`). */
export async function ciOutputFiles(name: CiFormatName, result: ResultFile, resultDir: string): Promise<CiOutputFile[]> {
  const format: CiFormat = CI_FORMATS[name];
  if (format.kind === 'text') return [{ path: format.file, text: format.render(result) }];
  return (await format.render(result, resultDir)).map((file) => ({ ...file, path: `${format.file}/${file.path}` }));
}
