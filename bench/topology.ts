import { measureTopologyTimes } from '../harness/cli/topology-command.ts';
import type { SectionResult } from './types.ts';

/** What hand-written shell scripts reached on this machine (the foundation issue): the bar. */
const HAND_WRITTEN_S = { single: 0.1, sentinel: 2.6, cluster: 2.5, promotion: 2.3 };
const RUNS = 3;

export async function benchTopologies(): Promise<SectionResult> {
  const results = await measureTopologyTimes(['single', 'sentinel', 'cluster'], RUNS);
  const rows: SectionResult['rows'] = [];
  const targets: SectionResult['targets'] = [];
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  for (const r of results) {
    const bar = HAND_WRITTEN_S[r.kind];
    rows.push({ name: `${r.kind} start-to-ready (min / median / max)`, note: `${s(r.startToReadyMs.min)} / ${s(r.startToReadyMs.median)} / ${s(r.startToReadyMs.max)}` });
    const ratio = r.startToReadyMs.median / 1000 / bar;
    targets.push({ id: `start-${r.kind}`, description: `${r.kind} start-to-ready vs hand-written script (${bar} s)`, measured: `${s(r.startToReadyMs.median)} (${ratio.toFixed(2)}x)`, threshold: '<= 1.2x', met: ratio <= 1.2 });
    if (r.killToPromotionMs) {
      rows.push({ name: `${r.kind} kill -9 primary to a replica answering role:master`, note: `${s(r.killToPromotionMs.min)} / ${s(r.killToPromotionMs.median)} / ${s(r.killToPromotionMs.max)}` });
      rows.push({ name: `${r.kind} kill -9 primary to ${r.kind === 'sentinel' ? '+switch-master' : 'FAIL flag'}`, note: `${s(r.killToAnnouncedMs!.min)} / ${s(r.killToAnnouncedMs!.median)} / ${s(r.killToAnnouncedMs!.max)}` });
      const promotion = r.killToPromotionMs.median / 1000 / HAND_WRITTEN_S.promotion;
      targets.push({ id: `promotion-${r.kind}`, description: `${r.kind} kill -9 to promotion vs hand-written script (${HAND_WRITTEN_S.promotion} s)`, measured: `${s(r.killToPromotionMs.median)} (${promotion.toFixed(2)}x)`, threshold: '<= 1.2x', met: promotion <= 1.2 });
    }
  }
  return {
    title: 'Topologies: start-to-ready and failover',
    method: `tokenbench's process backend, ${RUNS} runs each; promotion is the first ROLE poll (every 100 ms) in which a replica answers master.`,
    rows,
    targets,
  };
}
