// `npm run bench`: measures tokenbench against the physical limits of this machine, in one run,
// and writes BENCHMARKS.md and bench/results.json. Not part of `npm test`: speed targets live here.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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
import { benchStrategyVerify } from './strategy-verify.ts';
import { benchTopologies } from './topology.ts';
import type { SectionResult } from './types.ts';

const only = process.argv.slice(2);
const want = (id: string) => only.length === 0 || only.includes(id);
const log = (line: string) => process.stderr.write(`${line}\n`);

const sections: SectionResult[] = [];
const began = performance.now();
const redisBinary = await resolveRedisServer('redis-server');
const topology = await startTopology({ kind: 'single' });
const redis = topology.client() as Redis;
try {
  await redis.ping();
  const ctx = { redis, redisPort: topology.nodes()[0]!.port };
  if (want('jwt')) {
    log('JWT engine floor...');
    sections.push(await benchJwtFloor());
  }
  if (want('redis')) {
    log('Redis floor...');
    sections.push(await benchRedisFloor(ctx));
  }
  if (want('strategies')) {
    log('strategy verify, in process...');
    sections.push(await benchStrategyVerify(ctx));
  }
  if (want('http')) {
    log('HTTP path overhead...');
    sections.push(await benchHttpPath());
  }
  if (want('local')) {
    log('cached and replicated denylists...');
    sections.push(await benchLocalDenylists({ redis, target: topology.endpoints() }));
  }
} finally {
  redis.disconnect();
  await topology.stop();
}
if (want('harness')) {
  log('strategies under the harness...');
  sections.push(await benchHarnessRatios());
}
if (want('engine')) {
  log('load engine capacity...');
  sections.push(await benchLoadEngine());
}
if (want('topologies')) {
  log('topology start and failover...');
  sections.push(await benchTopologies());
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
