import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { findingsResult, sentinelResult } from '../../test/support/ci-results.ts';
import { which } from '../../topologies/process/redis-binary.ts';
import { renderJunit } from './junit.ts';

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = /^[A-Za-z_][\w.-]*/;

/** Character data: every `&` starts a known entity or a character reference; no `<` (the caller stops there). */
function decode(raw: string, where: string): string {
  return raw.replace(/&([^;]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new Error(`${where}: bare & in ${JSON.stringify(raw)}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const code = /^#x([0-9a-fA-F]+)$/.exec(ref)?.[1] ?? /^#(\d+)$/.exec(ref)?.[1];
    if (code === undefined) throw new Error(`${where}: unknown entity &${ref};`);
    return String.fromCodePoint(ref.startsWith('#x') ? Number.parseInt(code, 16) : Number(code));
  });
}

/**
 * A strict checker of well-formed XML 1.0, for what a JUnit file uses: a declaration, elements,
 * attributes in double quotes, character data with entities. Throws on anything else (a bare `&`,
 * a `<` in text, an unclosed or mismatched tag, a repeated attribute, a second root, a character
 * XML cannot hold) and returns the tree.
 */
function parseXml(xml: string): XmlElement {
  for (const char of xml) {
    const c = char.codePointAt(0)!;
    const ok = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
    if (!ok) throw new Error(`character U+${c.toString(16)} is not allowed in XML`);
  }
  let at = 0;
  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>/.exec(xml);
  if (declaration) at = declaration[0].length;
  const skipSpace = () => {
    while (at < xml.length && /\s/.test(xml[at]!)) at++;
  };
  const parseElement = (): XmlElement => {
    if (xml[at] !== '<') throw new Error(`expected < at ${at}`);
    at++;
    const name = NAME.exec(xml.slice(at))?.[0];
    if (!name) throw new Error(`bad element name at ${at}`);
    at += name.length;
    const element: XmlElement = { name, attributes: {}, children: [], text: '' };
    for (;;) {
      const space = /^\s*/.exec(xml.slice(at))![0].length;
      at += space;
      if (xml.startsWith('/>', at)) {
        at += 2;
        return element;
      }
      if (xml[at] === '>') {
        at++;
        break;
      }
      if (space === 0) throw new Error(`expected a space before an attribute of <${name}> at ${at}`);
      const attribute = /^([A-Za-z_][\w.-]*)="([^"<]*)"/.exec(xml.slice(at));
      if (!attribute) throw new Error(`bad attribute of <${name}> at ${at}: ${xml.slice(at, at + 40)}`);
      if (attribute[1]! in element.attributes) throw new Error(`<${name}> repeats attribute ${attribute[1]}`);
      element.attributes[attribute[1]!] = decode(attribute[2]!, `<${name} ${attribute[1]}>`);
      at += attribute[0].length;
    }
    for (;;) {
      const textEnd = xml.indexOf('<', at);
      if (textEnd < 0) throw new Error(`<${name}> is never closed`);
      element.text += decode(xml.slice(at, textEnd), `text of <${name}>`);
      at = textEnd;
      if (xml.startsWith(`</${name}>`, at)) {
        at += name.length + 3;
        return element;
      }
      if (xml.startsWith('</', at)) throw new Error(`<${name}> closed by ${xml.slice(at, at + 30)}`);
      element.children.push(parseElement());
    }
  };
  skipSpace();
  const root = parseElement();
  skipSpace();
  if (at !== xml.length) throw new Error(`content after the root element at ${at}`);
  return root;
}

const childrenNamed = (element: XmlElement, name: string) => element.children.filter((c) => c.name === name);
const count = (element: XmlElement, attribute: string) => Number(element.attributes[attribute]);

describe('the strict XML checker the JUnit test relies on', () => {
  it.each([
    ['a bare &', '<a>fish & chips</a>'],
    ['a < in text', '<a>1 < 2</a>'],
    ['a mismatched tag', '<a><b></a></b>'],
    ['an unclosed tag', '<a><b/>'],
    ['a repeated attribute', '<a x="1" x="2"/>'],
    ['two roots', '<a/><b/>'],
    ['a control character', '<a>\u0001</a>'],
    ['an unquoted attribute', '<a x=1/>'],
  ])('refuses %s', (_what, xml) => {
    expect(() => parseXml(xml)).toThrow();
  });
});

describe('renderJunit', () => {
  const xml = renderJunit(findingsResult());
  const root = parseXml(xml);
  const suites = childrenNamed(root, 'testsuite');

  it('is well-formed XML: one <testsuites>, one <testsuite> per run, named run label on topology', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(root.name).toBe('testsuites');
    expect(suites.map((s) => s.attributes.name)).toEqual(['blacklist on sentinel', 'whitelist on sentinel']);
  });

  it('python3 xml.etree parses it too', async (context) => {
    if (!which('python3')) return context.skip();
    const parsed = await execa(
      'python3',
      ['-c', 'import sys, xml.etree.ElementTree as E; print(len(E.fromstring(sys.stdin.buffer.read()).findall("testsuite/testcase")))'],
      {
        input: xml,
      },
    );
    expect(Number(parsed.stdout)).toBe(suites.flatMap((s) => childrenNamed(s, 'testcase')).length);
  });

  it('counts add up from the test cases to the suites to the root', () => {
    const totals = { tests: 0, failures: 0, skipped: 0, time: 0 };
    for (const suite of suites) {
      const cases = childrenNamed(suite, 'testcase');
      const failures = cases.filter((c) => childrenNamed(c, 'failure').length === 1).length;
      const skipped = cases.filter((c) => childrenNamed(c, 'skipped').length === 1).length;
      expect(count(suite, 'tests')).toBe(cases.length);
      expect(count(suite, 'failures')).toBe(failures);
      expect(count(suite, 'skipped')).toBe(skipped);
      expect(count(suite, 'errors')).toBe(0);
      expect(suite.attributes.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      for (const c of cases) {
        expect(c.attributes.classname).toBe(suite.attributes.name);
        expect(c.attributes.time).toMatch(/^\d+\.\d{3}$/);
        // At most one outcome element per test case.
        expect(c.children.length).toBeLessThanOrEqual(1);
      }
      totals.tests += cases.length;
      totals.failures += failures;
      totals.skipped += skipped;
      totals.time += Number(suite.attributes.time);
    }
    expect(count(root, 'tests')).toBe(totals.tests);
    expect(count(root, 'failures')).toBe(totals.failures);
    expect(count(root, 'skipped')).toBe(totals.skipped);
    expect(count(root, 'errors')).toBe(0);
    expect(Number(root.attributes.time)).toBeCloseTo(totals.time, 3);
    // 3 thresholds + 5 checkers per run; blacklist: p99 broken and lost-revocations invalid; whitelist: p99 broken, revoked-accepted unknown.
    expect(totals).toMatchObject({ tests: 16, failures: 3, skipped: 1 });
  });

  it('a broken threshold fails with the measured value and the limit; a kept one passes', () => {
    const cases = childrenNamed(suites[0]!, 'testcase');
    const p99 = cases.find((c) => c.attributes.name === 'threshold: verify.all.p99 <= 10 ms')!;
    const failure = childrenNamed(p99, 'failure')[0]!;
    expect(failure.attributes.message).toBe('measured 804.35 ms, limit <= 10 ms');
    expect(failure.text).toBe('verify.all.p99 (verify p99 latency) <= 10 ms: 804.35 ms (broken)');
    const throughput = cases.find((c) => c.attributes.name === 'threshold: throughput >= 400 ops/s')!;
    expect(throughput.children).toEqual([]);
  });

  it('a checker that found a violation fails with its verdict sentence and counts', () => {
    const lost = childrenNamed(suites[0]!, 'testcase').find((c) => c.attributes.name === 'checker: lost-revocations')!;
    const failure = childrenNamed(lost, 'failure')[0]!;
    expect(failure.attributes.message).toBe(
      'lost-revocations: 3 acknowledged revocations did not hold (1 resurrected during the run, 0 refreshed after revocation, 2 accepted at reconciliation).',
    );
    expect(failure.text).toContain('\ncounts: reconciled 132, allowedAtReconciliation 0,');
  });

  it('a checker whose verdict is unknown is skipped with the reason, never a pass', () => {
    const revoked = childrenNamed(suites[1]!, 'testcase').find((c) => c.attributes.name === 'checker: revoked-accepted')!;
    const skipped = childrenNamed(revoked, 'skipped')[0]!;
    expect(skipped.attributes.message).toBe(
      'revoked-accepted: no revoked token was verified after its revocation was acknowledged, so nothing shows revocation works.',
    );
    expect(childrenNamed(revoked, 'failure')).toEqual([]);
  });

  it('escapes what a label may hold, and drops what XML cannot', () => {
    const result = sentinelResult();
    result.runs[0]!.label = 'a<b> & "c" \'d\'\u0001\nnext';
    const parsed = parseXml(renderJunit(result));
    expect(childrenNamed(parsed, 'testsuite')[0]!.attributes.name).toBe('a<b> & "c" \'d\'\nnext on sentinel');
  });

  it('a result without runs is an empty, well-formed <testsuites>', () => {
    const result = sentinelResult();
    result.runs = [];
    expect(parseXml(renderJunit(result)).attributes).toMatchObject({ tests: '0', failures: '0' });
  });
});
