import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importSPKI, jwtVerify } from 'jose';
import { runStrategy } from '../harness/runner.ts';
import { normalizeScenario } from '../harness/scenario.ts';
import { seededRandom } from '../harness/workload.ts';
import type { StrategyRunResult } from '../result/schema.ts';
import { createStrategy } from '../strategies/create.ts';
import { TokenService } from '../strategies/jwt/token-service.ts';
import { jwtSettingsSchema } from '../strategies/options.ts';
import { engineClosedLoop } from './load-engine.ts';
import { median } from './strategy-verify.ts';
import type { SectionResult } from './types.ts';

const CONCURRENCY = 16;
const DURATION_MS = 3000;
/**
 * The bare loop and the harness run, next to each other in each round (alternating which goes
 * first): on this shared 2-core machine one reading of either moved by +-20% between back-to-back
 * runs, and a ratio of two single readings was mostly that.
 */
const ROUNDS = 5;
const ROUND_MS = 1500;

/**
 * The harness run's users, each with a token of its own. The bare loops verify as many tokens, in
 * the order the run's workload picks them (uniform at random): one token verified over and over,
 * or tokens in turn, is a cheaper verify than the harness's (bytes and decoded parts stay hot in the
 * caches; in turn against at random was ~2% here), and the loops are held to the same work.
 */
const USERS = 1000;
/** Drawn before the loop, so that the bare loops do not pay for the workload's choice: that is the harness's work. */
const TOKEN_ORDER = (() => {
  const random = seededRandom(normalizeScenario({}).workload.seed);
  return Uint16Array.from({ length: 65_536 }, () => Math.floor(random() * USERS));
})();

/** `verify` called by CONCURRENCY async loops for `durationMs` over `tokens` in TOKEN_ORDER, after a warm-up; in ops/s. */
async function loopRate(verify: (token: string) => Promise<unknown>, tokens: readonly string[], durationMs: number): Promise<number> {
  let next = 0;
  const nextToken = () => {
    const token = tokens[TOKEN_ORDER[next]! % tokens.length]!;
    next = (next + 1) & 0xffff;
    return token;
  };
  for (let i = 0; i < 2000; i++) await verify(nextToken());
  let done = 0;
  const until = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await verify(nextToken());
        done++;
      }
    }),
  );
  return (done / durationMs) * 1000;
}

/**
 * The pure strategy's verify (TokenService's checks around the same engine), called bare by the
 * same loops: between the bare engine and the harness run, it tells the strategy's own checks apart
 * from what the harness adds.
 */
async function pureBareLoop(engine: 'jose' | 'fast-jwt', alg: 'HS256' | 'ES256', durationMs: number): Promise<number> {
  const strategy = await createStrategy({ name: 'pure', jwt: { engine, alg } });
  const tokens: string[] = [];
  for (let user = 0; user < USERS; user++) {
    const issued = await strategy.issue(`user-${user}`);
    if (!issued.ok) throw new Error(`the pure strategy did not issue a token: ${issued.code}`);
    tokens.push(issued.accessToken);
  }
  const first = await strategy.verify(tokens[0]!);
  if (!first.ok) throw new Error(`the pure strategy rejected its own token: ${first.code}`);
  return loopRate((token) => strategy.verify(token), tokens, durationMs);
}

/** The same engine, called bare by CONCURRENCY async loops for `durationMs`: the ceiling the harness is held to. */
async function bareLoop(engine: 'jose' | 'fast-jwt', alg: 'HS256' | 'ES256', durationMs: number): Promise<number> {
  const settings = jwtSettingsSchema.parse({ engine, alg });
  const service = await TokenService.create(settings);
  const tokens: string[] = [];
  for (let user = 0; user < USERS; user++) tokens.push((await service.sign('access', { sub: `user-${user}` })).token);
  let verify: (token: string) => Promise<unknown>;
  if (engine === 'fast-jwt') {
    const { createVerifier } = createRequire(import.meta.url)('fast-jwt') as { createVerifier: (o: object) => (t: string) => unknown };
    const verifier = createVerifier({ key: service.keys.verificationKeyForFastJwt, algorithms: [alg], cache: false });
    verify = async (token) => verifier(token);
  } else {
    const key =
      alg === 'HS256'
        ? new Uint8Array(service.keys.verificationKeyForFastJwt as Buffer)
        : await importSPKI(service.keys.verificationKeyForFastJwt as string, alg);
    verify = (token) => jwtVerify(token, key, { algorithms: [alg], issuer: settings.issuer, audience: settings.audience });
  }
  return loopRate(verify, tokens, durationMs);
}

async function harnessRun(strategy: string, engine: 'jose' | 'fast-jwt', alg: 'HS256' | 'ES256', load: Record<string, unknown>) {
  const out = mkdtempSync(join(tmpdir(), 'tokenbench-bench-'));
  try {
    const scenario = normalizeScenario({
      strategies: [strategy],
      jwt: { engine, alg },
      workload: { users: USERS, revokedVerifyShare: 0, mix: { verify: 1, issue: 0, revoke: 0, revokeAll: 0, refresh: 0 } },
      load: { warmup: '1s', duration: DURATION_MS, ...load },
    });
    return await runStrategy(scenario, 0, { outDir: out, index: 0, signal: new AbortController().signal });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

interface HarnessGap {
  /** Per verify, from the medians of each task's rates. */
  bareUs: number;
  pureBareUs: number;
  engineAloneUs: number;
  underHarnessUs: number;
  /** The no-op ceiling's figure, and that net of the bare loops' own cost for the same no-op. */
  harnessUs: number;
  addedUs: number;
  strategyShare: number;
  harnessShare: number;
}

const signedUs = (us: number) => `${us < 0 ? '-' : '+'}${Math.abs(us).toFixed(1)} us`;

/**
 * Splits the gap between a bare verify and the same verify under the harness, each step measured:
 * the pure strategy's own checks (its verify called bare), the load engine around it (the engine
 * alone) against its bookkeeping on a no-op, and the runner around the engine (the whole harness run).
 */
function harnessWhy(g: HarnessGap): string {
  const bound = g.bareUs / (g.bareUs + g.addedUs);
  const engineAdds = g.engineAloneUs - g.pureBareUs;
  return (
    `a bare verify here costs ${g.bareUs.toFixed(1)} us, the pure strategy's verify called bare ${g.pureBareUs.toFixed(1)} us, under the load engine alone ${g.engineAloneUs.toFixed(1)} us, under the whole harness ${g.underHarnessUs.toFixed(1)} us (${signedUs(g.underHarnessUs - g.bareUs)}). ` +
    `The ratio is the product of two: the strategy's own checks (typ, issuer, audience, size cap, UTF-8) keep ${g.strategyShare.toFixed(2)} of the bare engine's rate, and the harness keeps ${g.harnessShare.toFixed(2)} of the strategy's (both medians of per-round ratios). ` +
    `The load engine's own work per op (choosing the op, HdrHistograms, timeline bucket, the history record) is ${g.harnessUs.toFixed(1)} us on a no-op, ${g.addedUs.toFixed(1)} us more than the bare loop's own for the same no-op, which alone would bound this ratio at ${bound.toFixed(2)} (${g.bareUs.toFixed(1)} / (${g.bareUs.toFixed(1)} + ${g.addedUs.toFixed(1)})). ` +
    `Beside a real verify the engine adds ${signedUs(engineAdds)} (the engine alone against the strategy called bare)` +
    // Seen from about the no-op figure to twice it and more, between machines and runs.
    (engineAdds > 1.5 * g.addedUs
      ? `, more than its no-op figure. Measured by hand: the engine's code runs about twice as long between verifies as back to back. The history append alone took 0.15-0.20 us back to back and 0.35-0.43 us with ~2 us of compute-only work (no memory traffic) between appends, while plain stores of as many bytes into a shared buffer of the ring's size took 0.10 and 0.12 us: it is the code's own state in the CPU (branch predictors, instruction caches; this VM exposes no counters to tell which) that the verify displaces, not the data. `
      : '. ') +
    `The runner around the engine (topology, Redis connection, progress, footprint sampler) adds ${signedUs(g.underHarnessUs - g.engineAloneUs)}.` +
    (bound < 0.9 ? ' A verify this cheap cannot keep 0.9 under a harness that records every op.' : '') +
    (g.strategyShare < 0.9
      ? ` The strategy's checks alone keep ${g.strategyShare.toFixed(2)}: below 0.9 with no harness at all, and they are the security defaults, not overhead to cut; the harness's own share is the ${g.harnessShare.toFixed(2)} above.`
      : '')
  );
}

/** The pure strategy under the whole harness (closed loop, single node) against the bare engine at the same concurrency; and open-loop verify p50 per strategy. */
export async function benchHarnessRatios(): Promise<SectionResult> {
  const rows: SectionResult['rows'] = [];
  const targets: SectionResult['targets'] = [];
  // What the harness itself costs per op at this concurrency, whatever the strategy: the bound on these ratios.
  const noop = await engineClosedLoop(CONCURRENCY, DURATION_MS);
  const harnessUs = 1e6 / noop.opsPerSec;
  // The bare loops pay for their own promise and clock read per op too: this much of the engine's
  // figure is not what the harness adds to them.
  const bareNoopUs = 1e6 / (await loopRate(async () => undefined, ['no token'], DURATION_MS));
  const addedUs = Math.max(0, harnessUs - bareNoopUs);
  rows.push({
    name: `no-op strategy under the load engine, closed loop ${CONCURRENCY}`,
    opsPerSec: Math.round(noop.opsPerSec),
    note: `${harnessUs.toFixed(3)} us of harness work per op, ${addedUs.toFixed(3)} us net of the same no-op in the bare loops (${bareNoopUs.toFixed(3)} us there); the history append waited for its writer thread ${noop.historyWaits} times`,
  });
  // The bare fast-jwt verify's cost, kept for the harness-work target below: its scale on this machine.
  let bareFastJwtUs = Number.NaN;
  for (const [engine, alg] of [
    ['fast-jwt', 'HS256'],
    ['jose', 'ES256'],
  ] as const) {
    const bare: number[] = [];
    const pureBare: number[] = [];
    const engineAlone: number[] = [];
    const harness: StrategyRunResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const tasks = [
        async () => bare.push(await bareLoop(engine, alg, ROUND_MS)),
        async () => pureBare.push(await pureBareLoop(engine, alg, ROUND_MS)),
        async () => {
          const strategy = await createStrategy({ name: 'pure', jwt: { engine, alg } });
          engineAlone.push((await engineClosedLoop(CONCURRENCY, ROUND_MS, { strategy, warmupMs: 1000 })).opsPerSec);
        },
        async () => harness.push(await harnessRun('pure', engine, alg, { mode: 'closed', concurrency: CONCURRENCY, duration: ROUND_MS })),
      ];
      // Each task goes first, second and last in turn: a machine that slows down over a round weighs on each alike.
      for (let k = 0; k < tasks.length; k++) await tasks[(round + k) % tasks.length]!();
    }
    const achieved = harness.map((run) => run.load.achievedRate);
    const ratio = median(achieved.map((rate, i) => rate / bare[i]!));
    const strategyShare = median(pureBare.map((rate, i) => rate / bare[i]!));
    const harnessShare = median(achieved.map((rate, i) => rate / pureBare[i]!));
    const [bareMedian, pureBareMedian, engineAloneMedian, harnessMedian] = [median(bare), median(pureBare), median(engineAlone), median(achieved)];
    if (engine === 'fast-jwt') bareFastJwtUs = 1e6 / bareMedian;
    const rounds = `${ROUNDS} paired rounds; per round ${achieved.map((rate, i) => (rate / bare[i]!).toFixed(3)).join(', ')}`;
    rows.push({
      name: `bare ${engine} ${alg}, ${CONCURRENCY} in flight`,
      opsPerSec: Math.round(bareMedian),
      note: `median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s`,
    });
    rows.push({
      name: `pure strategy's verify called bare, ${engine} ${alg}, ${CONCURRENCY} in flight`,
      opsPerSec: Math.round(pureBareMedian),
      note: `median of ${ROUNDS} rounds; ${strategyShare.toFixed(2)} of the bare engine's rate (the strategy's own checks), and the harness run below keeps ${harnessShare.toFixed(2)} of this one's`,
    });
    rows.push({
      name: `pure under the load engine alone, ${engine} ${alg}, closed loop ${CONCURRENCY}`,
      opsPerSec: Math.round(engineAloneMedian),
      note: `median of ${ROUNDS} rounds; the engine without the runner around it (no topology, progress or footprint sampler), history written as in a run`,
    });
    const middle = harness[achieved.indexOf([...achieved].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!)]!;
    rows.push({
      name: `pure under the harness, ${engine} ${alg}, closed loop ${CONCURRENCY}`,
      opsPerSec: Math.round(harnessMedian),
      p50Ms: middle.latency.verify?.all.p50,
      p99Ms: middle.latency.verify?.all.p99,
      note: `median of ${ROUNDS} rounds of ${ROUND_MS / 1000} s measured; latency of the median round`,
    });
    targets.push({
      id: `harness-pure-${engine}-${alg}`,
      description: `pure under the harness vs a bare ${engine} ${alg} loop, same concurrency`,
      // Three decimals: a median of 0.897 printed as 0.90 beside "Missed: wanted >= 0.90" reads as a contradiction.
      measured: `${ratio.toFixed(3)} (${rounds})`,
      threshold: '>= 0.90',
      met: ratio >= 0.9,
      ...(ratio < 0.9 && {
        why: harnessWhy({
          bareUs: 1e6 / bareMedian,
          pureBareUs: 1e6 / pureBareMedian,
          engineAloneUs: 1e6 / engineAloneMedian,
          underHarnessUs: 1e6 / harnessMedian,
          harnessUs,
          addedUs,
          strategyShare,
          harnessShare,
        }),
      }),
    });
  }
  // Issue 21's figure: the engine's bookkeeping per op, beside a bare verify of this machine to show its
  // scale, and measured again after the rounds to show how far one reading moves here.
  const noopAgain = await engineClosedLoop(CONCURRENCY, DURATION_MS);
  const harnessUsAgain = 1e6 / noopAgain.opsPerSec;
  targets.push({
    id: 'harness-work-per-op',
    description: "the load engine's own work per op (no-op strategy, closed loop 16: choosing the op, HdrHistograms, timeline, history record)",
    measured: `${harnessUs.toFixed(3)} us (${harnessUsAgain.toFixed(3)} us measured again after the rounds; ${addedUs.toFixed(3)} us net of the bare loops' own ${bareNoopUs.toFixed(3)} us for the same no-op; ${((100 * harnessUs) / bareFastJwtUs).toFixed(0)}% of a bare fast-jwt HS256 verify here, ${bareFastJwtUs.toFixed(1)} us)`,
    threshold: '<= 0.6 us',
    met: harnessUs <= 0.6,
    ...(harnessUs > 0.6 && {
      why: `a figure in microseconds moves with the machine: a bare fast-jwt HS256 verify takes ${bareFastJwtUs.toFixed(1)} us here, and the same no-op ceiling read ${harnessUs.toFixed(3)} and ${harnessUsAgain.toFixed(3)} us a minute apart in this run. What is left on this thread is the op's own bookkeeping (histograms, timeline, the ring record), two clock reads and its promises; a bare loop's own share of that, its promise and one clock read, is the ${bareNoopUs.toFixed(3)} us above, and the target is held to the whole figure. The history writer thread encodes the lines, about as costly again per op, on the other core; while it is behind it copies the records out instead and encodes them when the ring is empty or the history closes, so it is not the bound (the append waited for it ${noop.historyWaits} and ${noopAgain.historyWaits} times in the two readings).`,
    }),
  });
  for (const strategy of ['pure', 'blacklist', 'whitelist', 'double-token']) {
    const run = await harnessRun(strategy, 'jose', 'ES256', { mode: 'open', rate: 1000 });
    rows.push({
      name: `${strategy} verify, open loop 1000 ops/s, jose ES256`,
      opsPerSec: run.load.achievedRate,
      p50Ms: run.latency.verify?.all.p50,
      p99Ms: run.latency.verify?.all.p99,
      note: `slip p99 ${run.slip?.p99} ms`,
    });
  }
  return {
    title: 'Strategies under the harness',
    method: `runStrategy on a single-node topology, verify-only workload over ${USERS} users; closed loop at ${CONCURRENCY} in flight against a bare loop calling the same engine at the same concurrency over as many tokens (one per user, in the order the workload picks them: uniform at random, seeded), against the pure strategy's verify called bare by the same loops (which tells the strategy's own checks apart from the harness), and against the pure strategy under the load engine alone (which tells the engine apart from the runner around it), in ${ROUNDS} rounds of ${ROUND_MS / 1000} s each (each task first in turn; every ratio is the median of the per-round ratios), then open loop at 1000 ops/s per strategy.`,
    rows,
    targets,
  };
}
