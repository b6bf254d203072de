import { describe, expect, it } from 'vitest';
import { formatMs } from '../core/format.ts';
import { loadResult, parseResult } from '../result/schema.ts';
import { footprintWith } from '../test/support/footprint.ts';
import { sidesOps, withPartition } from '../test/support/partition-history.ts';
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
    expect(md).toContain('<details><summary>blacklist on sentinel: kill primary (redis-0) at 2.00 s, the ground truth</summary>');
    expect(md).toContain('### sentinel · kill primary (redis-0) at 2.00 s');
    expect(md).toContain('`+switch-master`');
  });

  it('has a propagation line for a run with verifier instances, and no section without', () => {
    expect(renderMarkdown(single)).not.toContain('## Propagation');
    const result = structuredClone(single);
    result.runs[0]!.checks['propagation-lag'].acrossInstances = {
      instances: 2,
      probes: 40,
      neverRejected: 0,
      staleAccepts: 3,
      p50Ms: 0.31,
      p99Ms: 0.9,
      maxMs: 2.1,
      lowerBound: { p50Ms: 0, p99Ms: 0.2, maxMs: 0.5 },
      relayP50Ms: 0.08,
      relayMaxMs: 0.4,
    };
    expect(renderMarkdown(result)).toContain(
      'across 2 other verifier instances: lag p50 0.31 ms, p99 0.90 ms, max 2.10 ms (upper bounds; probes began 0.08 ms after the ack, p50); 0 never rejected; 3 stale accepts.',
    );
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

describe('the measurement footprint in the Markdown report', () => {
  const withFootprint = (figures: Parameters<typeof footprintWith>[0]) => {
    const copy = structuredClone(sentinel);
    for (const run of copy.runs) run.footprint = footprintWith(figures);
    return copy;
  };

  it('shows each run under Environment, after the environment table', () => {
    const md = renderMarkdown(withFootprint({ generatorCore: 0.4, redisCore: 0.2, notIdle: 0.5 }));
    const environment = md.slice(md.indexOf('## Environment'));
    expect(environment.indexOf('| created |')).toBeLessThan(environment.indexOf('**Measurement footprint.**'));
    // 2.4 of 6 s on the thread; 0.4 x 1.1 of a core is 44%, 22% of 2 CPUs; Redis 0.2 of a core, redis-0 three quarters of it.
    expect(environment).toContain(
      '| blacklist on sentinel | 40% of a core | 44% of a core, 22% of 2 CPUs (peak 48%) | 20% of a core, 2 servers; busiest redis-0 15% |',
    );
    expect(environment).toContain('| 0% | 50% (53%) | 0.40 → 1.70 |');
    expect(md).not.toContain('Short of CPU');
  });

  it('warns near the top when a generator thread was at 90% of a core or more', () => {
    const md = renderMarkdown(withFootprint({ generatorCore: 0.97, redisCore: 0.2, notIdle: 0.7 }));
    const warning = md.split('\n').find((line) => line.startsWith('> **Short of CPU.**'));
    expect(warning).toContain("In all 2 runs (blacklist on sentinel, whitelist on sentinel), the load generator's busiest thread used up to 97% of a core");
    expect(warning).toContain('busy-waits');
    expect(warning).not.toContain('the machine was');
    expect(md.indexOf('> **Short of CPU.**')).toBeLessThan(md.indexOf('## Summary'));
  });

  it('warns when the whole machine was at 90% or more, saying who used it', () => {
    const md = renderMarkdown(withFootprint({ generatorCore: 0.5, redisCore: 0.6, notIdle: 0.96, steal: 0.04 }));
    const warning = md.split('\n').find((line) => line.startsWith('> **Short of CPU.**'))!;
    // tokenbench 0.55 of a core = 28% of 2 CPUs; Redis 0.6 = 30%; busy 92% - 27.5% - 30% = 34.5% others.
    expect(warning).toContain('the machine was up to 96% busy (of its CPUs: tokenbench up to 28%, Redis up to 30%, other processes up to 35%, steal up to 4%)');
    expect(warning).not.toContain('busiest thread');
  });

  it('says "not measured (no /proc)" where the machine had none', () => {
    const copy = withFootprint({ generatorCore: 0.3, redisCore: 0.1, notIdle: 0.3 });
    copy.runs[0]!.footprint = { ...copy.runs[0]!.footprint!, procUnavailable: 'no /proc', machine: null, redis: { unmeasured: 'no /proc', servers: [] } };
    copy.runs[0]!.footprint.tokenbench.generatorThreads = null;
    const md = renderMarkdown(copy);
    expect(md).toContain(
      '| blacklist on sentinel | not measured (no /proc) | 33% of a core (peak 36%) | not measured (no /proc) | - | not measured (no /proc) |',
    );
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

describe('a network partition in the Markdown report', () => {
  const md = renderMarkdown(withPartition(sentinel));

  it('names the fault with its sides, its heal and the demotion, with the acks of each window', () => {
    expect(md).toContain('<summary>blacklist on sentinel: partition redis-0, clients far | sentinels, replicas at 2.00 s, the ground truth</summary>');
    expect(md).toContain('| +0.000 s | **partition redis-0, clients far \\| sentinels, replicas** applied (drop) |');
    expect(md).toContain('| +4.000 s | healed (partition removed) |');
    // By hand (test/support/partition-history.ts): 6 acks in [2 s, 6 s), 4 by redis-0; 2 in [6 s, 8 s), both by redis-0.
    expect(md).toContain(
      '| +6.000 s | **redis-0 demoted** (primary -> replica): redis-0 demoted 2.00 s after the heal; 6 revocations acknowledged while the fault was in effect (4 by redis-0), 2 after the heal before the demotion (2 by redis-0) |',
    );
  });

  it('shows the durability split, each column the hand count', () => {
    expect(md).toContain('## Durability');
    expect(md).toMatch(/\| blacklist on sentinel \| +7 \| +4 \| +2 \| +1 \| redis-0 5, redis-1 1, unknown 1 +\| default 3, far 3, near 1 +\|/);
  });

  it('is rendered from a result the schema accepts', () => {
    expect(() => parseResult(JSON.parse(JSON.stringify(withPartition(sentinel))))).not.toThrow();
  });

  it('says the losses in the anomalies, and leaves the section out without a network fault', () => {
    expect(md).toContain('7 acknowledged revocations lost: 4 acknowledged while redis-0 was cut off from the sentinels and the replicas');
    expect(renderMarkdown(sentinel)).not.toContain('## Durability');
  });
});

describe('client groups in the Markdown report', () => {
  // By hand (test/support/partition-history.ts, sidesOps): far had no definite answer for 4 s, the run as a whole 50 ms.
  const md = renderMarkdown(withPartition(sentinel, sidesOps()));

  it('names the group that waited longer than the run next to the run-wide figure, in the summary table', () => {
    expect(md).toMatch(/\| 0\.05 s \(far: 4\.00 s\) \|/);
  });

  it('says where that group stood, and splits the fail-closed rejections by group', () => {
    expect(md).toContain(
      'verify had no definite answer for 0.05 s (clients far: 4.00 s, cut off with redis-0); fail-closed rejected 45 valid tokens meanwhile (users sent back to log in; by client group: far 39 of 100 verifies, near 5 of 100, default 1 of 200).',
    );
  });

  it('without client groups, the figure stands alone', () => {
    expect(renderMarkdown(sentinel)).not.toMatch(/clients \w+: /);
  });
});

describe('local state of replicated and cached denylists', () => {
  it('says what each verifier held, from the run, in one line per run', () => {
    const result = structuredClone(single);
    const [replicated, cached] = [result.runs[0]!, structuredClone(result.runs[0]!)];
    replicated.label = 'replicated-blacklist';
    replicated.localState = [{ worker: 0, entries: 2512, bytesEstimate: 254_054, hits: null, misses: null, reloads: 3, lastReloadMs: 0.8, clears: null }];
    cached.label = 'cached-blacklist';
    cached.localState = [{ worker: 0, entries: 3000, bytesEstimate: null, hits: 5000, misses: 1000, reloads: null, lastReloadMs: null, clears: 2 }];
    result.runs = [replicated, cached];
    const md = renderMarkdown(parseResult(result, 'local.json'));
    expect(md).toContain(
      '- replicated-blacklist on single: local state: the replica held 2,512 entries (~248.1 KiB, estimated), loaded 3 times, the last in 0.80 ms.',
    );
    expect(md).toContain(
      '- cached-blacklist on single: local state: the cache answered 83% of reads (5,000 hits, 1,000 misses), held 3,000 entries, dropped 2 times.',
    );
  });
});

describe('a cache refilling after a fault', () => {
  it('is read from the timeline: round trips per verify before the first fault against the worst second after it', () => {
    const result = structuredClone(sentinel);
    const run = result.runs[0]!;
    const fault = run.faults.find((f) => f.action !== 'settle')!;
    // 100 ms buckets of 20 verifies: 2 round trips each before the fault (0.10), 20 each in the first second after it (1.00).
    run.timeline = run.timeline.map((b) => ({ ...b, verifies: 20, verifyRedisOps: b.t < fault.atMs ? 2 : b.t < fault.atMs + 1000 ? 20 : 4 }));
    const md = renderMarkdown(parseResult(result, 'storm.json'));
    expect(md).toMatch(/its verifies went to Redis again: 0\.10 round trips per verify before the fault, up to 1\.00 in the second from \+0\.\d\d s/);
  });
});

describe('service time beside the corrected latency', () => {
  const withServiceTime = (ratio: number) => {
    const copy = structuredClone(sentinel);
    for (const run of copy.runs) {
      const verify = run.latency.verify!;
      verify.serviceTime = { all: { ...verify.all, p99: verify.all.p99 * ratio }, histogram: verify.histogram };
    }
    return copy;
  };

  it('shows it beside the p99 where the two differ, and folds the table of every op', () => {
    const result = withServiceTime(0.1);
    const md = renderMarkdown(result);
    const blacklist = result.runs.find((r) => r.label === 'blacklist')!.latency.verify!;
    expect(md).toContain(`(service time ${formatMs(blacklist.serviceTime!.all.p99)})`);
    expect(md).toContain('<details><summary>Latency per operation: corrected and service time (');
    expect(md).toContain('| blacklist on sentinel (differs) | verify |');
  });

  it('leaves the headline alone where they agree', () => {
    const md = renderMarkdown(withServiceTime(1));
    expect(md).not.toContain('(service time');
    expect(md).not.toContain('(differs)');
  });
});
