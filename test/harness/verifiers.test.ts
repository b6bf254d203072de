import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Op } from '../../harness/history.ts';
import { readHistory } from '../../harness/history-file.ts';
import { runStrategy } from '../../harness/runner.ts';
import { normalizeScenario } from '../../harness/scenario.ts';

const out = mkdtempSync(join(tmpdir(), 'tokenbench-verifiers-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function opsOf(path: string): Promise<Op[]> {
  const ops: Op[] = [];
  for await (const op of readHistory(path)) ops.push(op);
  return ops;
}

describe('verifier instances (load.verifiers: 2), blacklist on a single Redis', () => {
  it('probe every acknowledged revocation until both reject it, and stay out of the latency histograms', async () => {
    const scenario = normalizeScenario({
      strategies: ['blacklist'],
      workload: { users: 300 },
      load: { rate: 400, warmup: '300ms', duration: '3s', verifiers: 2 },
    });
    const run = await runStrategy(scenario, 0, { outDir: out, index: 0, signal: new AbortController().signal });
    expect(run.historyFiles).toHaveLength(3);
    const [generatorFile, ...verifierFiles] = run.historyFiles;
    expect(verifierFiles.map((f) => f.replace(/.*\//, ''))).toEqual(['history-0-blacklist-v0.ndjson', 'history-0-blacklist-v1.ndjson']);

    const generatorOps = await opsOf(generatorFile!);
    const acked = generatorOps.filter((op) => op.f === 'revoke' && op.type === 'ok');
    expect(acked.length).toBeGreaterThan(10);
    const ackOf = new Map(acked.map((op) => [op.jti!, op.completeMs]));
    for (const [k, file] of verifierFiles.entries()) {
      const probes = await opsOf(file);
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.every((op) => op.f === 'verify' && op.probe === true && op.replay === true && op.worker === 1000 + k)).toBe(true);
      // Every acknowledged revocation reached this instance and was rejected there.
      const rejected = new Set(probes.filter((op) => op.accepted === false && op.code === 'ERR_REVOKED').map((op) => op.jti));
      expect([...ackOf.keys()].filter((jti) => !rejected.has(jti))).toEqual([]);
      expect(probes.every((op) => op.invokeMs > ackOf.get(op.jti!)!)).toBe(true);
    }

    const across = run.checks['propagation-lag'].acrossInstances!;
    console.log(
      'blacklist across 2 verifier instances:',
      JSON.stringify(across),
      'generator verify p50/p99 ms:',
      run.latency.verify!.all.p50,
      run.latency.verify!.all.p99,
    );
    expect(across.instances).toBe(2);
    expect(across.probes).toBe(2 * acked.length);
    expect(across.neverRejected).toBe(0);
    // One Redis: once acknowledged, every instance sees the entry; the first probe rejects, and its
    // lag's upper bound is the relay plus one verify. Generous: a shared 2-core machine stalls threads.
    expect(across.staleAccepts).toBe(0);
    expect(across.lowerBound.maxMs).toBe(0);
    expect(across.p50Ms!).toBeLessThan(50);
    expect(across.maxMs!).toBeLessThan(1000);
    expect(run.checks['revoked-accepted'].counts.violations).toBe(0);
    expect(run.checks['lost-revocations'].lost?.total).toBe(0);

    // The histograms and the timeline hold the generator's measured verifies only, not the probes.
    const measuredVerifies = generatorOps.filter((op) => op.f === 'verify' && op.phase !== 'warmup' && op.phase !== 'final').length;
    expect(run.latency.verify!.all.count).toBe(measuredVerifies);
    expect(run.timeline.reduce((a, b) => a + b.verifies, 0)).toBe(measuredVerifies);
    expect(run.load.workers).toBe(1);
    const verifierThreads = run.footprint?.tokenbench.verifierThreads;
    console.log('verifier threads CPU:', JSON.stringify(verifierThreads), 'generators:', JSON.stringify(run.footprint?.tokenbench.generatorThreads));
    if (run.footprint?.procUnavailable === null) expect(verifierThreads?.map((t) => t.thread)).toEqual(['verifier 0', 'verifier 1']);
  }, 60_000);

  it('interrupted (Ctrl-C) mid-run: the verifiers stop with the run and their histories are whole', async () => {
    const scenario = normalizeScenario({
      strategies: ['blacklist'],
      workload: { users: 100 },
      load: { rate: 300, warmup: '200ms', duration: '20s', verifiers: 2 },
    });
    const abort = new AbortController();
    const started = Date.now();
    const run = await runStrategy(scenario, 0, {
      outDir: out,
      index: 1,
      signal: abort.signal,
      onStage: ({ stage }) => {
        if (stage.startsWith('warming up')) setTimeout(() => abort.abort(), 1000);
      },
    });
    expect(run.interrupted).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const file of run.historyFiles.slice(1)) expect((await opsOf(file)).every((op) => op.probe === true)).toBe(true);
    expect(run.checks['propagation-lag'].acrossInstances?.instances).toBe(2);
  }, 60_000);
});
