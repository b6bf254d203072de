import { describe, expect, it } from 'vitest';
import { loadResult, parseResult } from '../result/schema.ts';
import { renderMarkdown, whatThisMeans } from './markdown.ts';

const sentinel = loadResult(new URL('./fixtures/sentinel-kill.json', import.meta.url).pathname);
const single = loadResult(new URL('./fixtures/single-quick.json', import.meta.url).pathname);

describe('Markdown report', () => {
  it('renders the sentinel failover fixture (snapshot)', () => {
    expect(renderMarkdown(sentinel)).toMatchSnapshot();
  });

  it('renders the no-fault fixture (snapshot)', () => {
    expect(renderMarkdown(single)).toMatchSnapshot();
  });

  it('has the summary table, a section per fault, the trade-offs, the scenario and the environment', () => {
    const md = renderMarkdown(sentinel);
    for (const heading of ['## Summary', '## Faults', '## What this means', '## Scenario', '## Environment']) expect(md).toContain(heading);
    expect(md).toContain('| blacklist | sentinel |');
    expect(md).toMatch(/### blacklist on sentinel: kill redis-0 at 2\.00 s/);
    expect(md).toContain('`+switch-master`');
  });

  it('says in plain words what a lost revocation and a WAIT variant mean', () => {
    const base = structuredClone(sentinel.runs[0]!);
    base.checks['lost-revocations'].lost = {
      total: 3,
      byCause: { resurrected: 0, refreshAfterRevocation: 0, lostAtReconciliation: 3 },
      byAck: { ackedByFormerPrimary: 3, ackedByCurrentPrimary: 0, ackPortUnknown: 0 },
    };
    const withWait = structuredClone(sentinel.runs[0]!);
    withWait.label = 'blacklist + WAIT 1';
    withWait.wait = { replicas: 1, timeoutMs: 100 };
    withWait.latency.revoke!.all.p50 = base.latency.revoke!.all.p50 + 0.2;
    const points = whatThisMeans([base, withWait]);
    expect(points.some((p) => p.includes('blacklist on sentinel lost 3 acknowledged revocations') && p.includes('no longer primary'))).toBe(true);
    expect(points).toContain('With WAIT 1 (blacklist + WAIT 1): 0 lost, at +0.20 ms revoke p50.');
  });

  it('keeps a hostile label from breaking the table', () => {
    const hostile = structuredClone(single);
    hostile.runs[0]!.label = 'a | b\nc';
    expect(renderMarkdown(hostile)).toContain('| a \\| b c |');
  });

  it('marks an interrupted result', () => {
    expect(renderMarkdown({ ...single, interrupted: true })).toContain('**Interrupted**');
  });
});

describe('result schema', () => {
  it('names the field that is wrong or missing', () => {
    const broken = structuredClone(sentinel) as unknown as { runs: { latency: { verify: { histogram?: string } } }[] };
    delete broken.runs[0]!.latency.verify.histogram;
    expect(() => parseResult(broken, 'x.json')).toThrow('x.json: field runs[0].latency.verify.histogram is missing');
  });

  it('refuses a result from a newer tokenbench, saying so', () => {
    expect(() => parseResult({ ...sentinel, schemaVersion: 99 }, 'new.json')).toThrow(/new\.json: written by a newer tokenbench \(schemaVersion 99\)/);
  });
});
