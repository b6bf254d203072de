import { describe, expect, it } from 'vitest';
import { headlineFigures } from '../../result/figures.ts';
import { findingsResult, sentinelResult } from '../../test/support/ci-results.ts';
import { renderOpenMetrics } from './openmetrics.ts';

/*
 * A strict parser of the OpenMetrics 1.0 text format, written from the specification
 * (https://github.com/OpenObservability/OpenMetrics, specification/OpenMetrics.md: the ABNF and the
 * "Text format" and "Metric types" sections). It throws on the first thing the spec forbids.
 */

type FamilyType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'stateset' | 'info' | 'summary' | 'unknown';

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface ParsedFamily {
  name: string;
  type: FamilyType;
  unit?: string;
  help?: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES: readonly FamilyType[] = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'stateset', 'info', 'summary', 'unknown'];
/** The sample names a family of each type may use: its name plus one of these. */
const SUFFIXES: Record<FamilyType, readonly string[]> = {
  counter: ['_total', '_created'],
  summary: ['', '_count', '_sum', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  info: ['_info'],
  gauge: [''],
  stateset: [''],
  unknown: [''],
};
/** Labels that belong to the MetricPoint, not the Metric (they may differ between samples of one Metric). */
const POINT_LABELS: Partial<Record<FamilyType, string>> = { summary: 'quantile', histogram: 'le', gaugehistogram: 'le' };

/** `escaped-string`: a backslash only before n, a double quote or a backslash. */
function unescapeText(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_all, next: string) => {
    if (next === 'n') return '\n';
    if (next === '"' || next === '\\') return next;
    throw new Error(`${where}: undefined escape \\${next}`);
  });
}

/** `number`: realnumber, or [sign] inf / infinity, or nan (case-insensitive). */
function parseNumber(text: string, where: string): number {
  if (/^[+-]?(\d+(\.\d*)?([eE][+-]?\d+)?|\d*\.\d+([eE][+-]?\d+)?)$/.test(text)) return Number(text);
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  throw new Error(`${where}: not a number: ${JSON.stringify(text)}`);
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  if (!text.startsWith('{')) return { labels, rest: text };
  let at = 1;
  while (text[at] !== '}') {
    if (Object.keys(labels).length > 0) {
      if (text[at] !== ',') throw new Error(`${where}: expected , between labels`);
      at++;
    }
    const name = LABEL_NAME.exec(text.slice(at))?.[0];
    if (!name) throw new Error(`${where}: bad label name at ${text.slice(at, at + 20)}`);
    if (name.startsWith('_')) throw new Error(`${where}: label ${name}: names beginning with _ are reserved`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    at += name.length;
    if (!text.startsWith('="', at)) throw new Error(`${where}: label ${name} without ="`);
    at += 2;
    let value = '';
    for (;;) {
      const c = text[at];
      if (c === undefined) throw new Error(`${where}: label ${name} never closed`);
      if (c === '"') break;
      if (c === '\\') {
        value += text.slice(at, at + 2);
        at += 2;
      } else {
        value += c;
        at++;
      }
    }
    labels[name] = unescapeText(value, `${where} label ${name}`);
    at++;
  }
  return { labels, rest: text.slice(at + 1) };
}

function parseOpenMetrics(text: string): ParsedFamily[] {
  if (text.includes('\r')) throw new Error('carriage return');
  if (!/(^|\n)# EOF\n?$/.test(text)) throw new Error('does not end with # EOF');
  const lines = text.replace(/\n?$/, '').split('\n');
  lines.pop();
  const families: ParsedFamily[] = [];
  let current: ParsedFamily | undefined;
  let metricKeys: string[] = [];
  const sampleKeys = new Set<string>();
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}`;
    if (line.startsWith('#')) {
      const meta = /^# (TYPE|UNIT|HELP) ([^ ]+) ?(.*)$/.exec(line);
      if (!meta) throw new Error(`${where}: a line beginning with # that is not TYPE, UNIT, HELP or the final EOF: ${line}`);
      const [, kind, name, value] = meta as unknown as [string, string, string, string];
      if (METRIC_NAME.exec(name)?.[0] !== name || name.startsWith('_')) throw new Error(`${where}: bad family name ${name}`);
      if (kind === 'TYPE') {
        if (families.some((f) => f.name === name)) throw new Error(`${where}: family ${name} twice (interleaved or duplicate)`);
        if (!TYPES.includes(value as FamilyType)) throw new Error(`${where}: unknown type ${value}`);
        current = { name, type: value as FamilyType, samples: [] };
        families.push(current);
        metricKeys = [];
        continue;
      }
      if (!current || current.name !== name) throw new Error(`${where}: ${kind} for ${name} outside its family's metadata (TYPE first)`);
      if (current.samples.length > 0) throw new Error(`${where}: ${kind} after the family's samples`);
      if (kind === 'UNIT') {
        if (current.unit !== undefined) throw new Error(`${where}: UNIT twice`);
        if (value && !name.endsWith(`_${value}`)) throw new Error(`${where}: unit ${value} is not the suffix of ${name}`);
        if (value && (current.type === 'stateset' || current.type === 'info')) throw new Error(`${where}: a ${current.type} has no unit`);
        current.unit = value;
      } else {
        if (current.help !== undefined) throw new Error(`${where}: HELP twice`);
        current.help = unescapeText(value, `${where} HELP`);
      }
      continue;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) throw new Error(`${where}: not a sample: ${line}`);
    if (!current) throw new Error(`${where}: sample ${name} without a TYPE`);
    const suffix = name.slice(current.name.length);
    if (!name.startsWith(current.name) || !SUFFIXES[current.type].includes(suffix))
      throw new Error(`${where}: sample ${name} is not part of ${current.type} family ${current.name}`);
    const { labels, rest } = parseLabels(line.slice(name.length), where);
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) throw new Error(`${where}: expected one space, a value and an optional timestamp: ${rest}`);
    const value = parseNumber(parts[1]!, where);
    if (parts[2] !== undefined) parseNumber(parts[2], `${where} timestamp`);
    const sampleKey = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (sampleKeys.has(sampleKey)) throw new Error(`${where}: the same sample twice`);
    sampleKeys.add(sampleKey);
    const pointLabel = current.type === 'stateset' ? current.name : POINT_LABELS[current.type];
    const metricKey = JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== pointLabel)
        .sort(),
    );
    if (metricKeys.at(-1) !== metricKey) {
      if (metricKeys.includes(metricKey)) throw new Error(`${where}: metric ${metricKey} interleaved with another`);
      metricKeys.push(metricKey);
    }
    if (current.type === 'counter' && suffix === '_total' && (Number.isNaN(value) || value < 0)) throw new Error(`${where}: a counter total is >= 0, not NaN`);
    if (current.type === 'stateset' && (!(current.name in labels) || (value !== 0 && value !== 1)))
      throw new Error(`${where}: a state is 0 or 1, labelled by the family name`);
    if (current.type === 'info' && value !== 1) throw new Error(`${where}: an info sample is 1`);
    if (current.type === 'summary') {
      if (suffix === '' && !('quantile' in labels)) throw new Error(`${where}: a summary quantile sample without quantile`);
      if ('quantile' in labels) {
        const q = Number(labels.quantile);
        if (!(q >= 0 && q <= 1)) throw new Error(`${where}: quantile ${labels.quantile} not within 0 and 1`);
        if (value < 0) throw new Error(`${where}: a quantile's value is not negative`);
      }
      if (suffix === '_count' && (!Number.isInteger(value) || value < 0)) throw new Error(`${where}: a count is a whole number >= 0`);
    }
    current.samples.push({ name, labels, value });
  }
  // No family's name may be a sample name another family can make.
  for (const family of families)
    for (const other of families)
      if (other !== family && SUFFIXES[other.type].some((s) => `${other.name}${s}` === family.name))
        throw new Error(`${family.name} clashes with ${other.name}`);
  return families;
}

describe('the strict OpenMetrics parser the test relies on', () => {
  const ok = '# TYPE a gauge\na 1\n# EOF\n';
  it('takes a minimal exposition', () => {
    expect(parseOpenMetrics(ok)).toEqual([{ name: 'a', type: 'gauge', samples: [{ name: 'a', labels: {}, value: 1 }] }]);
  });
  it.each([
    ['no EOF', '# TYPE a gauge\na 1\n'],
    ['something after EOF', `${ok}a 2\n`],
    ['a duplicate family', '# TYPE a gauge\na 1\n# TYPE a gauge\n# EOF\n'],
    ['interleaved metrics', '# TYPE a summary\na{x="1",quantile="0.5"} 1\na{x="2",quantile="0.5"} 1\na_count{x="1"} 2\n# EOF\n'],
    ['a unit that is not the suffix', '# TYPE a gauge\n# UNIT a seconds\na 1\n# EOF\n'],
    ['a counter total without _total', '# TYPE a counter\na 1\n# EOF\n'],
    ['an undefined escape', '# TYPE a gauge\na{x="\\q"} 1\n# EOF\n'],
    ['an unescaped quote', '# TYPE a gauge\na{x="""} 1\n# EOF\n'],
    ['the same sample twice', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n# EOF\n'],
    ['a comment', '# TYPE a gauge\n# hello\na 1\n# EOF\n'],
    ['a stateset without its label', '# TYPE a stateset\na{x="1"} 1\n# EOF\n'],
    ['a carriage return', '# TYPE a gauge\r\na 1\n# EOF\n'],
    ['a name clash', '# TYPE a counter\na_total 1\n# TYPE a_created gauge\na_created 1\n# EOF\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseOpenMetrics(text)).toThrow();
  });
});

describe('renderOpenMetrics', () => {
  const result = findingsResult();
  const families = parseOpenMetrics(renderOpenMetrics(result));
  const family = (name: string) => families.find((f) => f.name === name)!;
  const sample = (familyName: string, labels: Record<string, string>, name = familyName) =>
    family(familyName).samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

  it('parses strictly: TYPE, UNIT and HELP before the samples, no family twice, # EOF last', () => {
    expect(families.map((f) => f.name)).toContain('tokenbench_latency_seconds');
    for (const f of families) expect(f.help).toBeTruthy();
    expect(family('tokenbench_latency_seconds')).toMatchObject({ type: 'summary', unit: 'seconds' });
    expect(family('tokenbench_longest_unavailability_seconds')).toMatchObject({ type: 'gauge', unit: 'seconds' });
  });

  it("every run's samples carry strategy, topology and run", () => {
    for (const f of families.filter((f) => f.name !== 'tokenbench_result'))
      for (const s of f.samples) expect(Object.keys(s.labels).slice(0, 3)).toEqual(['strategy', 'topology', 'run']);
    expect(sample('tokenbench_result', {}, 'tokenbench_result_info')!.labels).toMatchObject({ tokenbench: result.tokenbenchVersion });
  });

  it("the figures are the result's own, in base units", () => {
    const run = result.runs[0]!;
    const labels = { strategy: 'blacklist', topology: 'sentinel', run: 'blacklist on sentinel' };
    expect(sample('tokenbench_latency_seconds', { ...labels, op: 'verify', quantile: '0.99' })!.value).toBeCloseTo(run.latency.verify!.all.p99 / 1000, 9);
    expect(sample('tokenbench_latency_seconds', { ...labels, op: 'verify' }, 'tokenbench_latency_seconds_count')!.value).toBe(run.latency.verify!.all.count);
    expect(sample('tokenbench_operations', labels, 'tokenbench_operations_total')!.value).toBe(run.load.completedOps);
    expect(sample('tokenbench_lost_revocations', labels, 'tokenbench_lost_revocations_total')!.value).toBe(3);
    expect(sample('tokenbench_valid_rejected', labels, 'tokenbench_valid_rejected_total')!.value).toBe(headlineFigures(run).validRejected);
    expect(sample('tokenbench_verdict', { ...labels, tokenbench_verdict: 'invalid' })!.value).toBe(1);
    expect(sample('tokenbench_verdict', { ...labels, tokenbench_verdict: 'valid' })!.value).toBe(0);
    expect(sample('tokenbench_threshold', { ...labels, metric: 'verify.all.p99', tokenbench_threshold: 'broken' })!.value).toBe(1);
    expect(
      sample('tokenbench_checker_verdict', { run: 'whitelist on sentinel', checker: 'revoked-accepted', tokenbench_checker_verdict: 'unknown' })!.value,
    ).toBe(1);
  });

  it('escapes label values (backslash, double quote, line feed) and stays parseable', () => {
    const odd = sentinelResult();
    odd.runs[0]!.label = 'a "quoted" \\ label\nacross lines';
    const parsed = parseOpenMetrics(renderOpenMetrics(odd));
    const runs = new Set(parsed.flatMap((f) => f.samples.map((s) => s.labels.run)).filter(Boolean));
    expect(runs).toEqual(new Set(['a "quoted" \\ label\nacross lines on sentinel', 'whitelist on sentinel']));
  });

  it('two runs with the same label are two metrics, not one sample twice', () => {
    const twice = sentinelResult();
    twice.runs[1]!.label = twice.runs[0]!.label;
    twice.runs[1]!.strategy = twice.runs[0]!.strategy;
    expect(() => parseOpenMetrics(renderOpenMetrics(twice))).not.toThrow();
  });
});
