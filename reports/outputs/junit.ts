import { redactSecrets } from '../../core/secrets.ts';
import type { CheckName } from '../../result/checks.ts';
import type { ResultFile, StrategyRunResult } from '../../result/schema.ts';
import { type ThresholdResult, thresholdValueText } from '../../result/thresholds.ts';
import { verdictWord } from '../../result/verdict.ts';
import { ciRunNames } from './run-names.ts';

/**
 * JUnit XML as Jenkins, GitLab and the GitHub test reporters read it: `<testsuites>` holding one
 * `<testsuite>` per run, one `<testcase>` per threshold and per checker. A broken threshold or a
 * checker that found a violation is a `<failure>` (message: the measured value and the limit, or
 * the verdict's sentence; text: the sentence and the counts); a checker that could check nothing
 * is `<skipped>` with the reason, never a pass. tests / failures / errors / skipped add up from the
 * test cases to the suites to the root; time is seconds of measured phase.
 */

/** XML 1.0 cannot hold control characters (but tab and line breaks) or lone surrogates at all: dropped, not escaped. */
const isXmlChar = (c: number) => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;

function xmlText(text: string): string {
  let kept = '';
  // By code point: a surrogate pair is one character, a lone surrogate is dropped.
  for (const char of text) if (isXmlChar(char.codePointAt(0)!)) kept += char;
  return kept.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Line breaks and tabs as character references: an attribute value would otherwise have them normalized to spaces. */
function xmlAttribute(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function element(name: string, attributes: Record<string, string | number>, children: string[] = [], text?: string): string[] {
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${xmlAttribute(String(value))}"`)
    .join('');
  if (children.length === 0 && text === undefined) return [`<${name}${attrs}/>`];
  if (children.length === 0) return [`<${name}${attrs}>${xmlText(text!)}</${name}>`];
  return [`<${name}${attrs}>`, ...children.map((line) => `  ${line}`), `</${name}>`];
}

type Outcome = { kind: 'passed' } | { kind: 'failure' | 'skipped'; message: string; text: string };

interface TestCase {
  name: string;
  outcome: Outcome;
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function thresholdCase(t: ThresholdResult): TestCase {
  const bound = t.bound === 'max' ? '<=' : '>=';
  const limit = `${bound} ${thresholdValueText(t.limit, t.unit)}`;
  const name = `threshold: ${t.metric} ${limit}`;
  if (t.ok) return { name, outcome: { kind: 'passed' } };
  // A maximum can be broken by a value at or under it: a window still open at the end is only known to be at least that long.
  const within = t.measured !== null && (t.bound === 'max' ? t.measured <= t.limit : t.measured >= t.limit);
  const measured = t.measured === null ? 'not measured' : `measured ${within ? 'at least ' : ''}${thresholdValueText(t.measured, t.unit)}`;
  return { name, outcome: { kind: 'failure', message: `${measured}, limit ${limit}`, text: t.sentence } };
}

const countsText = (counts: Record<string, number | undefined>) =>
  Object.entries(counts)
    .filter(([, n]) => n !== undefined)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');

function checkerCase(run: StrategyRunResult, checker: CheckName): TestCase {
  const check = run.checks[checker];
  const name = `checker: ${checker}`;
  if (check.valid === true) return { name, outcome: { kind: 'passed' } };
  const reason =
    run.verdict.reasons.find((r) => r.startsWith(`${checker}:`)) ??
    (check.valid === false ? `${checker}: found a violation.` : `${checker}: not enough information to check anything (verdict unknown).`);
  const counts = `counts: ${countsText(check.counts as Record<string, number | undefined>)}`;
  return { name, outcome: { kind: check.valid === false ? 'failure' : 'skipped', message: reason, text: `${reason}\n${counts}` } };
}

function testCaseXml(suite: string, test: TestCase): string[] {
  const attributes = { name: test.name, classname: suite, time: '0.000' };
  if (test.outcome.kind === 'passed') return element('testcase', attributes);
  const { kind, message, text } = test.outcome;
  return element('testcase', attributes, element(kind, { message, ...(kind === 'failure' && { type: 'AssertionError' }) }, [], text));
}

/** The root's timestamp, as the JUnit schema's xs:dateTime without a zone (UTC). */
const timestamp = (iso: string) => iso.replace(/\.\d+Z$|Z$/, '');

export function renderJunit(input: ResultFile): string {
  const result = redactSecrets(input);
  const names = ciRunNames(result.runs);
  const totals = { tests: 0, failures: 0, skipped: 0, timeMs: 0 };
  const suites = result.runs.flatMap((run, i) => {
    const cases = [...run.thresholds.map(thresholdCase), ...(Object.keys(run.checks) as CheckName[]).map((checker) => checkerCase(run, checker))];
    const failures = cases.filter((c) => c.outcome.kind === 'failure').length;
    const skipped = cases.filter((c) => c.outcome.kind === 'skipped').length;
    totals.tests += cases.length;
    totals.failures += failures;
    totals.skipped += skipped;
    totals.timeMs += run.load.durationMs;
    const properties = element(
      'properties',
      {},
      Object.entries({
        strategy: run.strategy,
        topology: run.topology.kind,
        backend: run.topology.backend,
        verdict: verdictWord(run.verdict.valid),
        interrupted: String(run.interrupted),
      }).flatMap(([name, value]) => element('property', { name, value })),
    );
    return element(
      'testsuite',
      {
        name: names[i]!,
        tests: cases.length,
        failures,
        errors: 0,
        skipped,
        time: seconds(run.load.durationMs),
        timestamp: timestamp(result.createdAt),
      },
      [...properties, ...cases.flatMap((c) => testCaseXml(names[i]!, c))],
    );
  });
  const scenario = typeof result.scenario.name === 'string' ? result.scenario.name : 'scenario';
  const root = element(
    'testsuites',
    {
      name: `tokenbench: ${scenario}`,
      tests: totals.tests,
      failures: totals.failures,
      errors: 0,
      skipped: totals.skipped,
      time: seconds(totals.timeMs),
      timestamp: timestamp(result.createdAt),
    },
    suites,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root.join('\n')}\n`;
}
