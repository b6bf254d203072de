import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { createStrategy } from '../strategies/create.ts';
import { newBench, round, statsOf, type TaskStats, toRow } from './jwt-floor.ts';
import { median, mergeRounds } from './strategy-verify.ts';
import type { SectionResult } from './types.ts';

/** Paired rounds, as in the strategy section: both tasks side by side in every round, order alternating. */
const ROUNDS = 8;
const ROUND_TIME_MS = 250;
const ROUND_WARMUP_MS = 100;
/** Shaped like the sample service's token, so verify reads its claims as it would for a real one. */
const TOKEN = [
  Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64url'),
  Buffer.from(
    JSON.stringify({ sub: 'user-1', jti: '0b6f6f0e-7f7b-4c43-9d8e-2d1f0a6b9c11', iat: 1_700_000_000, iat_ms: 1_700_000_000_000, exp: 1_700_001_800 }),
  ).toString('base64url'),
  'c2lnbmF0dXJlLW5vdC1jaGVja2Vk',
].join('.');

type TaskId = 'bare' | 'strategy';

/**
 * The HTTP path's own cost: a keep-alive round trip to a no-op route of a local node:http server,
 * bare (undici, the same header) and through the http strategy's verify (templates, the token's
 * claims, the response mapping). One request at a time, so the difference is per request, not
 * hidden in concurrency. The server runs in the same process for both tasks alike.
 */
export async function benchHttpPath(): Promise<SectionResult> {
  const server = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new Pool(origin, { connections: 1, pipelining: 1 });
  const strategy = await createStrategy({
    name: 'http',
    http: { baseUrl: origin, login: { path: '/login' }, verify: { path: '/noop' }, logout: { path: '/noop' }, connections: 1 },
    timeoutMs: 5_000,
  });
  try {
    const verdict = await strategy.verify(TOKEN);
    if (!verdict.ok) throw new Error(`the no-op route did not accept through the strategy: ${verdict.code}`);
    const fns: Record<TaskId, () => Promise<void>> = {
      bare: async () => {
        const response = await pool.request({ method: 'GET', path: '/noop', headers: { authorization: `Bearer ${TOKEN}` } });
        await response.body.text();
      },
      strategy: async () => {
        await strategy.verify(TOKEN);
      },
    };
    const order: TaskId[] = ['bare', 'strategy'];
    const rounds = new Map<TaskId, TaskStats[]>(order.map((id) => [id, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const bench = newBench({ time: ROUND_TIME_MS, warmupTime: ROUND_WARMUP_MS });
      for (const id of r % 2 === 0 ? order : [...order].reverse()) bench.add(id, fns[id]);
      await bench.run();
      for (const task of bench.tasks) rounds.get(task.name as TaskId)!.push(statsOf(task));
    }
    const bare = mergeRounds(rounds.get('bare')!);
    const through = mergeRounds(rounds.get('strategy')!);
    const paired = (value: (s: TaskStats) => number) => median(rounds.get('strategy')!.map((s, i) => value(s) - value(rounds.get('bare')![i]!)));
    const meanUs = paired((s) => s.meanMs * 1000);
    const p50Us = paired((s) => s.p50Ms * 1000);
    const ratio = median(rounds.get('strategy')!.map((s, i) => s.meanMs / rounds.get('bare')![i]!.meanMs));
    return {
      title: 'HTTP path overhead',
      method: `A local node:http server with a no-op route (204), in this process; one keep-alive connection (undici Pool, no pipelining), one request at a time. Bare: undici request with the same Authorization header. Through the harness: the http strategy's verify (header template, the token's claims, the response mapping). ${ROUNDS} paired rounds of ${ROUND_TIME_MS} ms, order alternating; differences and the ratio are medians of per-round pairs.`,
      rows: [
        toRow('bare undici round trip to the no-op route', bare),
        toRow(
          'the same route through the http strategy verify',
          through,
          `+${round(meanUs, 1)} us mean, +${round(p50Us, 1)} us p50 per request (paired); ratio ${round(ratio, 3)}`,
        ),
      ],
      targets: [],
      notes: [
        `Of an HTTP run's verify latency, ${round(meanUs, 1)} us (mean; ${round(p50Us, 1)} us at p50) is tokenbench's own client-side work on top of a bare keep-alive round trip of ${round(bare.meanMs * 1000, 1)} us here; the rest is the network, the service and its Redis. Under open-loop load, the harness's scheduling adds its slip (reported per run) on top.`,
      ],
    };
  } finally {
    await strategy.close?.();
    await pool.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
