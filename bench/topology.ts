import { LOCAL_IMAGE } from '../topologies/container/docker.ts';
import { measureTopologyTimes } from '../topologies/measure.ts';
import { TOPOLOGY_KINDS } from '../topologies/options.ts';
import type { SectionResult } from './types.ts';

/** The container backend beside the process one, in the same run, where a Docker engine answers. */
async function containerRows(processResults: Awaited<ReturnType<typeof measureTopologyTimes>>): Promise<{ rows: SectionResult['rows']; note: string }> {
  const image = process.env.TOKENBENCH_BENCH_IMAGE ?? LOCAL_IMAGE;
  try {
    const { ensureTestImage } = await import('../topologies/container/image.ts');
    await ensureTestImage(image, 'TOKENBENCH_BENCH_IMAGE');
  } catch (error) {
    return { rows: [], note: `Container backend not measured: ${(error as Error).message.split(';')[0]}.` };
  }
  const results = await measureTopologyTimes(
    TOPOLOGY_KINDS.map((kind) => ({ kind, backend: 'container', image })),
    RUNS,
  );
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rows: SectionResult['rows'] = [];
  for (const r of results) {
    const base = processResults.find((p) => p.kind === r.kind)!;
    rows.push({
      name: `container ${r.kind} start-to-ready (min / median / max)`,
      note: `${s(r.startToReadyMs.min)} / ${s(r.startToReadyMs.median)} / ${s(r.startToReadyMs.max)} (${(r.startToReadyMs.median / base.startToReadyMs.median).toFixed(2)}x the process backend)`,
    });
    if (r.killToPromotionMs && base.killToPromotionMs) {
      rows.push({
        name: `container ${r.kind} kill -9 primary to promotion`,
        note: `${s(r.killToPromotionMs.median)} median (${(r.killToPromotionMs.median / base.killToPromotionMs.median).toFixed(2)}x the process backend)`,
      });
    }
  }
  return { rows, note: `Container rows: the same measurement with --backend container --image ${image} (host networking).` };
}

/** What hand-written shell scripts reached on this machine (the foundation issue): the bar. */
const HAND_WRITTEN_S = { single: 0.1, sentinel: 2.6, cluster: 2.5, promotion: 2.3 };
const RUNS = 3;

export async function benchTopologies(): Promise<SectionResult> {
  const results = await measureTopologyTimes(
    TOPOLOGY_KINDS.map((kind) => ({ kind })),
    RUNS,
  );
  const rows: SectionResult['rows'] = [];
  const targets: SectionResult['targets'] = [];
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  for (const r of results) {
    const bar = HAND_WRITTEN_S[r.kind];
    rows.push({
      name: `${r.kind} start-to-ready (min / median / max)`,
      note: `${s(r.startToReadyMs.min)} / ${s(r.startToReadyMs.median)} / ${s(r.startToReadyMs.max)}`,
    });
    const ratio = r.startToReadyMs.median / 1000 / bar;
    targets.push({
      id: `start-${r.kind}`,
      description: `${r.kind} start-to-ready vs hand-written script (${bar} s)`,
      measured: `${s(r.startToReadyMs.median)} (${ratio.toFixed(2)}x)`,
      threshold: '<= 1.2x',
      met: ratio <= 1.2,
    });
    if (r.killToPromotionMs) {
      rows.push({
        name: `${r.kind} kill -9 primary to a replica answering role:master`,
        note: `${s(r.killToPromotionMs.min)} / ${s(r.killToPromotionMs.median)} / ${s(r.killToPromotionMs.max)}`,
      });
      rows.push({
        name: `${r.kind} kill -9 primary to ${r.kind === 'sentinel' ? '+switch-master' : 'FAIL flag'}`,
        note: `${s(r.killToAnnouncedMs!.min)} / ${s(r.killToAnnouncedMs!.median)} / ${s(r.killToAnnouncedMs!.max)}`,
      });
      const promotion = r.killToPromotionMs.median / 1000 / HAND_WRITTEN_S.promotion;
      targets.push({
        id: `promotion-${r.kind}`,
        description: `${r.kind} kill -9 to promotion vs hand-written script (${HAND_WRITTEN_S.promotion} s)`,
        measured: `${s(r.killToPromotionMs.median)} (${promotion.toFixed(2)}x)`,
        threshold: '<= 1.2x',
        met: promotion <= 1.2,
      });
    }
  }
  const container = await containerRows(results);
  rows.push(...container.rows);
  return {
    title: 'Topologies: start-to-ready and failover',
    method: `tokenbench's process backend, ${RUNS} runs each; promotion is the first ROLE poll (every 100 ms) in which a replica answers master. ${container.note}`,
    rows,
    targets,
  };
}
