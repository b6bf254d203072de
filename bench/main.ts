// `npm run bench`: measures tokenbench against the physical limits of this machine, in one run,
// and writes BENCHMARKS.md and bench/results.json. Not part of `npm test`: speed targets live here.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { gitSha } from '../core/version.ts';
import { resolveRedisServer } from '../topologies/process/redis-binary.ts';
import { startTopology } from '../topologies/topology.ts';
import { benchHarnessRatios } from './harness-ratios.ts';
import { benchHttpPath } from './http-path.ts';
import { benchJwtFloor } from './jwt-floor.ts';
import { benchLoadEngine } from './load-engine.ts';
import { benchLocalDenylists } from './local-denylists.ts';
import { benchRedisFloor } from './redis-floor.ts';
import { benchShards } from './shards.ts';
import { benchStrategyVerify } from './strategy-verify.ts';
import { benchTopologies } from './topology.ts';
import type { SectionResult } from './types.ts';

const SECTIONS = ['jwt', 'redis', 'strategies', 'http', 'local', 'harness', 'engine', 'shards', 'topologies'] as const;
type SectionId = (typeof SECTIONS)[number];
const log = (line: string) => process.stderr.write(`${line}\n`);
/** Set in a section's own process: where it writes its SectionResult. */
const SECTION_OUT_ENV = 'TOKENBENCH_BENCH_SECTION_OUT';

/** One section, in this process. The in-process floors and ratios measure against a single-node Redis started here. */
async function runSection(id: SectionId): Promise<SectionResult> {
  switch (id) {
    case 'harness':
      log('strategies under the harness...');
      return benchHarnessRatios();
    case 'engine':
      log('load engine capacity...');
      return benchLoadEngine();
    case 'shards':
      log('one run split across generators...');
      return benchShards();
    case 'topologies':
      log('topology start and failover...');
      return benchTopologies();
    case 'http':
      log('HTTP path overhead...');
      return benchHttpPath();
    case 'jwt':
      log('JWT engine floor...');
      return benchJwtFloor();
  }
  const topology = await startTopology({ kind: 'single' });
  const redis = topology.client() as Redis;
  try {
    await redis.ping();
    const ctx = { redis, redisPort: topology.nodes()[0]!.port };
    switch (id) {
      case 'redis':
        log('Redis floor...');
        return await benchRedisFloor(ctx);
      case 'strategies':
        log('strategy verify, in process...');
        return await benchStrategyVerify(ctx);
      case 'local':
        log('cached and replicated denylists...');
        return await benchLocalDenylists({ redis, target: topology.endpoints() });
    }
  } finally {
    redis.disconnect();
    await topology.stop();
  }
}

/**
 * Each section in a process of its own, as a tokenbench run has: what one section leaves behind
 * (compiled code, a grown heap, tinybench's samples) moved the next one's figures (the no-op
 * engine read 1.0 us per op after the others and 0.7 us alone). The ratios a target compares are
 * still measured side by side, in the section's process.
 */
async function runSectionAlone(id: SectionId): Promise<SectionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tokenbench-bench-section-'));
  const out = join(dir, 'section.json');
  try {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), id], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, [SECTION_OUT_ENV]: out },
    });
    // Ctrl-C reaches the child too, through the terminal's process group: this one waits for it to
    // stop. A SIGTERM is this process's alone, so it is passed on.
    const onSigint = () => {};
    const onSigterm = () => child.kill('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    const [code, signal] = (await once(child, 'exit').finally(() => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    })) as [number | null, NodeJS.Signals | null];
    if (code !== 0) throw new BenchSectionFailed(id, signal ? `stopped by ${signal}` : `exit code ${code}`);
    return JSON.parse(readFileSync(out, 'utf8')) as SectionResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

class BenchSectionFailed extends Error {
  constructor(
    readonly section: SectionId,
    readonly how: string,
  ) {
    super(`bench section '${section}' failed (${how}); its output is above`);
  }
}

const asked = process.argv.slice(2);
const unknownSection = asked.find((id) => !(SECTIONS as readonly string[]).includes(id));
if (unknownSection !== undefined) {
  log(`npm run bench: unknown section '${unknownSection}'; expected some of: ${SECTIONS.join(', ')} (none: all of them)`);
  process.exit(2);
}
const sectionOut = process.env[SECTION_OUT_ENV];
if (sectionOut !== undefined) {
  writeFileSync(sectionOut, JSON.stringify(await runSection(asked[0] as SectionId)));
  process.exit(0);
}

const sections: SectionResult[] = [];
const began = performance.now();
const redisBinary = await resolveRedisServer('redis-server');
for (const id of SECTIONS) {
  if (asked.length > 0 && !asked.includes(id)) continue;
  try {
    sections.push(await runSectionAlone(id));
  } catch (error) {
    if (!(error instanceof BenchSectionFailed)) throw error;
    log(`npm run bench: ${error.message}; BENCHMARKS.md and bench/results.json are left as they were`);
    process.exit(1);
  }
}

const sha = gitSha()?.slice(0, 7) ?? 'unknown';
const environment = {
  date: new Date().toISOString(),
  commit: sha,
  node: process.version,
  redis: `${redisBinary.flavor} ${redisBinary.version}`,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
  platform: `${process.platform} ${process.arch}`,
  durationS: Math.round((performance.now() - began) / 1000),
};
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ environment, sections }, null, 2)}\n`);

const n = (v: number | undefined, d = 0) => (v === undefined ? '' : v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const md: string[] = [
  '# tokenbench benchmarks',
  '',
  'Written by `npm run bench` (one run, one machine: ratios are measured side by side in that run; this machine is shared and noisy, so absolute numbers move between runs). Raw figures: `bench/results.json`.',
  '',
  '| | |',
  '|---|---|',
  ...Object.entries(environment).map(([k, v]) => `| ${k} | ${v} |`),
  '',
  '## Targets',
  '',
  '| target | measured | threshold | met |',
  '|---|---|---|---|',
  ...sections.flatMap((s) =>
    s.targets.map((t) => `| ${t.description} | ${t.measured} | ${t.threshold} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`),
  ),
  '',
];
for (const s of sections) {
  md.push(`## ${s.title}`, '', s.method, '', '| measurement | ops/s | p50 ms | p99 ms | note |', '|---|--:|--:|--:|---|');
  for (const r of s.rows) md.push(`| ${r.name} | ${n(r.opsPerSec)} | ${n(r.p50Ms, 3)} | ${n(r.p99Ms, 3)} | ${r.note ?? ''} |`);
  md.push('');
  const missed = s.targets.filter((t) => t.met === false);
  for (const t of missed) md.push(`- **Missed: ${t.description}** (${t.measured}, wanted ${t.threshold}). ${t.why ?? 'No explanation recorded.'}`);
  for (const note of s.notes ?? []) md.push(`- ${note}`);
  if (missed.length || s.notes?.length) md.push('');
}
writeFileSync(new URL('../BENCHMARKS.md', import.meta.url), `${md.join('\n')}\n`);
log(`BENCHMARKS.md and bench/results.json written in ${environment.durationS} s`);
