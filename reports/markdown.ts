import { formatMs as ms, formatSeconds as seconds } from '../core/format.ts';
import { escapeCell as cell, markdownTable } from '../core/markdown.ts';
import { redactSecrets } from '../core/secrets.ts';
import { headlineFigures, worstSideUnavailability } from '../result/figures.ts';
import { isNetworkFault } from '../result/network-faults.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { verdictWord } from '../result/verdict.ts';
import { FOOTPRINT_COLUMNS, FOOTPRINT_INTRO, footprintMissingReason, footprintRow, footprintWarning } from './footprint.ts';
import { LATENCY_COLUMNS, LATENCY_DIFFERS_RULE, LATENCY_INTRO, latencyRows, serviceTimeNote } from './latency.ts';
import {
  acrossInstancesText,
  DURABILITY_COLUMNS,
  DURABILITY_INTRO,
  durabilityRow,
  faultComparison,
  localStateText,
  missStormText,
  networkFaultFiguresText,
  networkWindowOf,
  steadyText,
  storeRejectedBySideText,
  unavailabilityText,
  verdictLines,
} from './phrases.ts';
import { SERVER_FIGURE_NAMES, SERVER_FIGURES, SERVERS_NOTE, serverCellText, serverComparison } from './servers.ts';
import { ANSWER_COLUMNS, ANSWER_NOTE, answerCells, strategyAnswers } from './strategy-answers.ts';
import { faultLabel, faultsText, panelTitle, suiteDescription, suiteMatrix, suitePanels, topologyName } from './suite.ts';
import { escapeXml } from './svg.ts';

type Run = StrategyRunResult;

const HEALED_AS: Record<string, string> = { pause: 'resumed', kill: 'restarted' };

/** Corrected verify p99, with the service time beside it where the two differ (reports/latency.ts). */
function p99WithServiceTime(run: Run): string {
  const p99 = ms(run.latency.verify?.all.p99);
  const service = run.latency.verify?.serviceTime?.all;
  return serviceTimeNote(run) && service ? `${p99} (service time ${ms(service.p99)})` : p99;
}

function runName(r: Run): string {
  return `${r.label}${r.interrupted ? ' (interrupted)' : ''}${r.verdict.valid === true ? '' : ` (${verdictWord(r.verdict.valid)})`}`;
}

/**
 * The headline figures, one row per run, narrow enough for a 1280 px page and a terminal: the
 * terminal prints it after a run, the step summary holds it. `topology: false` leaves the column
 * out where the rows are already grouped by topology.
 */
export function summaryTable(runs: readonly Run[], options: { topology?: boolean } = {}): string[] {
  const withTopology = options.topology ?? true;
  const header = [
    'strategy',
    ...(withTopology ? ['topology'] : []),
    'verify p50 ms',
    'p99 ms',
    'p99.9 ms',
    'ops/s',
    'violations',
    'valid rejected',
    'lost revocations',
    'longest unavailability',
  ];
  const rows = runs.map((r) => {
    const v = r.latency.verify?.all;
    const f = headlineFigures(r);
    return [
      runName(r),
      ...(withTopology ? [topologyName(r)] : []),
      ms(v?.p50),
      p99WithServiceTime(r),
      ms(v?.p999),
      r.load.achievedRate,
      f.violations,
      f.validRejected,
      f.lostRevocations ?? '-',
      unavailabilityText(r, 'short'),
    ];
  });
  return markdownTable(header, rows, { align: header.map((_, i) => (i < (withTopology ? 2 : 1) ? 'left' : 'right')) });
}

/** Every figure of every run, for the details: what the headline table leaves out (JWT, Redis cost, revoked accepted by kind). */
export function figuresTable(runs: readonly Run[]): string[] {
  const header = [
    'strategy',
    'topology',
    'JWT',
    'verify p50 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'ops/s',
    'Redis round trips / verify',
    'bytes / entry',
    'revoked accepted: violations (within guarantee, fail-open)',
    'valid rejected: store down, entry lost, JWT or clock, other',
    'lost revocations',
    'longest verify unavailability',
  ];
  const rows = runs.map((r) => {
    const v = r.latency.verify?.all;
    const f = headlineFigures(r);
    const revoked = r.checks['revoked-accepted'].counts;
    const rejected = r.checks['valid-rejected'].counts;
    return [
      runName(r),
      topologyName(r),
      `${r.engine} ${r.alg}`,
      ms(v?.p50),
      ms(v?.p99),
      ms(v?.p999),
      ms(v?.max),
      r.load.achievedRate,
      r.redis.roundTripsPerVerify ?? '-',
      r.redis.bytesPerEntry ?? '-',
      `${revoked.violations} (${revoked.withinGuarantee}, ${revoked.failOpen})`,
      `${f.validRejected}: ${rejected.storeUnavailable}, ${rejected.entryLost}, ${rejected.jwtOrClock}, ${rejected.other}`,
      f.lostRevocations ?? '-',
      unavailabilityText(r, 'short'),
    ];
  });
  return markdownTable(header, rows, { align: header.map((_, i) => (i < 3 ? 'left' : 'right')) });
}

/** The headline table per panel (topology, fault schedule, server), then every figure in a collapsed block. */
function summarySection(result: ResultFile): string[] {
  const matrix = suiteMatrix(result);
  const out = ['## Summary', ''];
  for (const panel of suitePanels(result)) {
    out.push(`### ${cell(panelTitle(panel, matrix))}`, '', ...summaryTable(panel.runs, { topology: false }), '');
  }
  out.push(
    SUMMARY_NOTE,
    '',
    // GitHub and GitLab render <details>; the blank lines let the table inside render as Markdown.
    '<details><summary>All figures per run</summary>',
    '',
    ...figuresTable(result.runs),
    '',
    '</details>',
    '',
  );
  return out;
}

const SUMMARY_NOTE =
  "Latency counts from when each operation was due (coordinated omission corrected). *Violations*: revoked tokens accepted after the revocation was acknowledged, beyond the strategy's guarantee. *Valid rejected*: never-revoked tokens rejected (store unavailable, entry lost, JWT or clock). *Lost revocations*: acknowledged revocations missing at reconciliation or resurrected, each token once. *Longest unavailability*: the longest time verify gave no definite answer.";

/** The ground truth after a fault, one line per kind of event (the first occurrence), with what clients saw woven in. */
function faultSection(run: Run): string[] {
  const out: string[] = [];
  const perFault = run.checks.unavailability.perFault ?? [];
  run.faults
    .filter((f) => f.action !== 'settle')
    .forEach((fault, i) => {
      const next = run.faults[i + 1]?.atMs ?? Infinity;
      const name = faultLabel(fault, run);
      // GitHub and GitLab render <details>; its summary is HTML, so it is escaped as HTML.
      out.push(`<details><summary>${escapeXml(`${run.label} on ${topologyName(run)}: ${name} at ${seconds(fault.atMs)}`)}, the ground truth</summary>`, '');
      if (fault.error) out.push(`The fault could not be applied: ${fault.error}`, '');
      const rows: [number, string][] = [[0, `**${cell(name)}** ${isNetworkFault(fault) ? `applied (${fault.effect ?? 'drop'})` : 'injected'}`]];
      const network = networkWindowOf(run, fault);
      if (fault.healedAtMs !== undefined) rows.push([fault.healedAtMs - fault.atMs, `healed (${HEALED_AS[fault.action] ?? `${fault.action} removed`})`]);
      else if (network?.healedAtMs != null)
        rows.push([network.healedAtMs - fault.atMs, `healed at settle, after the measured phase (${fault.action} removed)`]);
      if (network?.demotedAtMs != null) {
        const node = fault.node ?? fault.target;
        const text = networkFaultFiguresText(fault, perFault[i]);
        rows.push([network.demotedAtMs - fault.atMs, `**${node} demoted** (primary -> replica)${text ? `: ${text}` : ''}`]);
      } else if (network) {
        const text = networkFaultFiguresText(fault, perFault[i]);
        if (text) rows.push([(network.healedAtMs ?? fault.atMs) - fault.atMs, text]);
      }
      const seen = new Set<string>();
      for (const e of run.events) {
        if (e.atMs < fault.atMs || e.atMs >= next || e.source === 'fault') continue;
        const key = `${e.type} ${e.node ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        rows.push([e.atMs - fault.atMs, `${e.source} \`${e.type}\`${e.node ? ` ${e.node}` : ''}${e.source === 'role' && e.detail ? ` (${e.detail})` : ''}`]);
      }
      const figures = perFault[i];
      if (figures) {
        if (typeof figures.detectMs === 'number') rows.push([figures.detectMs, 'first verify without a definite answer (clients notice)']);
        if (typeof figures.recoverMs === 'number' && figures.detectMs !== null)
          rows.push([figures.recoverMs, 'first definite verify answer again (clients recovered)']);
        if (typeof figures.steadyP99Ms === 'number') rows.push([figures.steadyP99Ms, steadyText(run)]);
      }
      for (const anomaly of run.anomalies) {
        if (anomaly.atMs !== null && anomaly.atMs >= fault.atMs && anomaly.atMs < next)
          rows.push([anomaly.atMs - fault.atMs, `**anomaly** (${anomaly.kind}): ${anomaly.sentence}`]);
      }
      rows.sort((a, b) => a[0] - b[0]);
      const shown = rows.slice(0, 16).map(([at, what]) => [`+${(at / 1000).toFixed(3)} s`, what]);
      if (rows.length > 16) shown.push(['...', `${rows.length - 16} more events in result.json`]);
      // Raw: the event texts are ours and carry Markdown on purpose (**bold**, `code`).
      out.push(...markdownTable(['after the fault', 'what happened'], shown, { align: ['right', 'left'], raw: true }));
      out.push('', '</details>', '');
    });
  return out;
}

/** Per panel with a fault: what each strategy's clients saw, side by side; each run's ground truth folded beneath. */
function faultsSection(result: ResultFile): string[] {
  const matrix = suiteMatrix(result);
  const panels = suitePanels(result).filter((p) => p.hasFault || p.runs.some((r) => r.faults.some((f) => f.error)));
  if (panels.length === 0) return [];
  const out = ['## Faults', ''];
  for (const panel of panels) {
    const { columns, rows } = faultComparison(panel.runs);
    out.push(`### ${cell(panelTitle(panel, matrix))}`, '');
    if (rows.length > 0) out.push(...markdownTable(columns, rows, { align: columns.map((c, i) => (i === 0 || c === 'fault' ? 'left' : 'right')) }), '');
    out.push(...panel.runs.flatMap(faultSection));
  }
  return out;
}

/** Every op type's latency, corrected and service time side by side, folded: the headline table shows corrected verify only. */
function latencySection(runs: readonly Run[]): string[] {
  const rows = latencyRows(runs);
  if (rows.length === 0) return [];
  const differ = rows.filter((r) => r.differs).length;
  return [
    `<details><summary>Latency per operation: corrected and service time${differ > 0 ? ` (${differ} row${differ === 1 ? '' : 's'} where they differ, marked)` : ''}</summary>`,
    '',
    `${LATENCY_INTRO} Rows ${LATENCY_DIFFERS_RULE} are marked.`,
    '',
    ...markdownTable(
      LATENCY_COLUMNS.map((c) => c.title),
      rows.map((r) => (r.differs ? [`${r.cells[0]} (differs)`, ...r.cells.slice(1)] : r.cells)),
      { align: LATENCY_COLUMNS.map((c) => c.align) },
    ),
    '',
    '</details>',
    '',
  ];
}

/** Suites on several servers: each strategy and topology across them, with what differs beyond noise in bold. */
function serversSection(result: ResultFile): string[] {
  const comparison = serverComparison(result);
  if (!comparison) return [];
  const header = ['strategy', 'topology', ...SERVER_FIGURES.map((f) => SERVER_FIGURE_NAMES[f])];
  const rows = comparison.rows.map((row) => [
    row.strategy,
    row.topology,
    ...SERVER_FIGURES.map((f) => {
      const text = cell(serverCellText(f, row.figures[f]));
      return row.figures[f].beyondNoise ? `**${text}** (beyond noise)` : text;
    }),
  ]);
  return [
    `## Servers side by side: ${comparison.servers.map(cell).join(' / ')}`,
    '',
    ...markdownTable(header, rows, { align: header.map((_, i) => (i < 2 ? 'left' : 'right')), raw: true }),
    '',
    SERVERS_NOTE,
    '',
  ];
}

/** Where the losses of runs with a network fault were acknowledged: when, by which node, from which client group. */
function durabilitySection(runs: readonly Run[]): string[] {
  const rows = runs.map(durabilityRow).filter((row) => row !== undefined);
  if (rows.length === 0) return [];
  return [
    '## Durability',
    '',
    DURABILITY_INTRO,
    '',
    ...markdownTable(DURABILITY_COLUMNS, rows, { align: DURABILITY_COLUMNS.map((_, i) => (i === 0 || i >= 5 ? 'left' : 'right')) }),
    '',
  ];
}

/**
 * Runs with verifier instances: how long the others still accepted a token after its revocation was
 * acknowledged; runs whose strategy keeps state in the verifier: what it held.
 */
function propagationSection(runs: readonly Run[]): string[] {
  const lines = runs.flatMap((run) =>
    [acrossInstancesText(run), localStateText(run), missStormText(run)].flatMap((text) =>
      text ? [`- ${cell(run.label)} on ${run.topology.kind}: ${text}.`] : [],
    ),
  );
  return lines.length === 0 ? [] : ['## Propagation', '', ...lines, ''];
}

function sameRunWithout(runs: readonly Run[], run: Run, differs: (other: Run) => boolean): Run | undefined {
  return runs.find((o) => o !== run && o.strategy === run.strategy && o.topology.kind === run.topology.kind && differs(o));
}

/** The trade-offs in plain words, each sentence backed by figures from this result. */
export function whatThisMeans(runs: readonly Run[]): string[] {
  const points: string[] = [];
  for (const run of runs) {
    const where = `${run.label} on ${run.topology.kind}`;
    const lost = headlineFigures(run).lostRevocations;
    const hasFault = run.faults.some((f) => f.action !== 'settle');
    if (lost === null) {
      points.push(
        `${where}: distinct lost revocations are not known for this result (written by an older tokenbench that counted a token once per way it was lost); re-run to count them.`,
      );
    } else if (lost > 0) {
      const former = run.checks['lost-revocations'].lost?.byAck.ackedByFormerPrimary ?? 0;
      points.push(
        `**${where} lost ${lost} acknowledged revocation${lost === 1 ? '' : 's'}** (${faultsText(run)})${former ? `; ${former} had been acknowledged by a node that is no longer primary` : ''}: those revoked tokens work again.`,
      );
    } else if (hasFault && run.guarantee === 'immediate') {
      points.push(`${where} lost no acknowledged revocation (${faultsText(run)}).`);
    }
    if (run.wait === null) {
      const withWait = sameRunWithout(runs, run, (o) => o.wait !== null);
      if (withWait && hasFault) {
        const deltaMs = (withWait.latency.revoke?.all.p50 ?? NaN) - (run.latency.revoke?.all.p50 ?? NaN);
        points.push(
          `With WAIT ${withWait.wait!.replicas} (${withWait.label}): ${headlineFigures(withWait).lostRevocations} lost, at ${deltaMs >= 0 ? '+' : ''}${ms(deltaMs)} ms revoke p50.`,
        );
      }
    }
    const revoked = run.checks['revoked-accepted'].counts;
    const violations = revoked.violations;
    if (violations > 0)
      points.push(`**${where} accepted ${violations} revoked token${violations === 1 ? '' : 's'} after the revocation had been acknowledged.**`);
    const within = revoked.withinGuarantee;
    if (run.guarantee === 'none' && within > 0)
      points.push(`${where} cannot revoke: all ${within} replayed revoked tokens were accepted (by design; nothing is stored).`);
    if (typeof run.guarantee === 'object' && within > 0) {
      points.push(
        `${where}: ${within} revoked access tokens were still accepted, as its guarantee allows (revocation waits for the access token to expire, up to ${Math.round(run.guarantee.boundedByMs / 1000)} s).`,
      );
    }
    const failOpen = revoked.failOpen;
    if (failOpen > 0) points.push(`${where} is fail-open: ${failOpen} revoked tokens were accepted while Redis was unreachable.`);
    // A client group cut off by a network fault can wait for seconds while the run as a whole does not.
    const down = Math.max(headlineFigures(run).longestUnavailabilityMs, worstSideUnavailability(run)?.longestWindowMs ?? 0);
    const rejected = run.checks['valid-rejected'].counts;
    const storeRejected = rejected.storeUnavailable;
    const bySide = storeRejectedBySideText(run);
    const bySideText = bySide ? `; by client group: ${bySide}` : '';
    if (hasFault && down > 200) {
      points.push(
        `${where}: verify had no definite answer for ${unavailabilityText(run)}${storeRejected ? `; fail-closed rejected ${storeRejected} valid tokens meanwhile (users sent back to log in${bySideText})` : ''}.`,
      );
    } else if (hasFault && storeRejected > 0) {
      // Cluster: one shard down, the others answering; no global silence, but real rejections.
      points.push(
        `${where}: verify kept answering overall, but fail-closed rejected ${storeRejected} valid tokens whose keys lived on the failed node until its replica took over${bySide ? ` (by client group: ${bySide})` : ''}.`,
      );
    }
    const lostEntries = rejected.entryLost;
    if (lostEntries > 0)
      points.push(`**${where} rejected ${lostEntries} valid, never-revoked tokens** (an allowlist entry lost, or a session limit eviction).`);
  }
  // Cost relative to the stateless baseline on the same topology.
  for (const run of runs) {
    if (run.strategy === 'pure' || !run.redis.roundTripsPerVerify) continue;
    const pure = runs.find((o) => o.strategy === 'pure' && o.topology.kind === run.topology.kind);
    const p50 = run.latency.verify?.byPhase.steady?.p50 ?? run.latency.verify?.all.p50;
    const base = pure?.latency.verify?.byPhase.steady?.p50 ?? pure?.latency.verify?.all.p50;
    if (pure && p50 !== undefined && base !== undefined) {
      points.push(
        `${run.label} on ${run.topology.kind} pays ${run.redis.roundTripsPerVerify} Redis round trip per verify: steady p50 ${ms(p50)} ms vs ${ms(base)} ms for a pure JWT (${p50 - base >= 0 ? '+' : ''}${ms(p50 - base)} ms)${run.redis.bytesPerEntry ? `, and ~${Math.round(run.redis.bytesPerEntry)} bytes of Redis per stored entry` : ''}.`,
      );
    }
  }
  return points;
}

function environmentTable(result: ResultFile): string[] {
  const e = result.environment;
  return markdownTable(
    ['', ''],
    [
      ['tokenbench', `${e.tokenbench}${e.gitSha ? ` (${e.gitSha.slice(0, 12)})` : ''}`],
      ['node', e.node],
      ['redis', e.redis],
      ['platform', e.platform],
      ['CPU', `${e.cpus} x ${e.cpuModel}`],
      ['JWT engines', e.jwtEngines.join(', ')],
      ['created', result.createdAt],
    ],
  );
}

/** Each strategy's answer over all its runs, with the note that says what the columns count; empty without runs. */
export function answersTable(result: ResultFile): string[] {
  const answers = strategyAnswers(result);
  if (answers.length === 0) return [];
  return [...markdownTable(ANSWER_COLUMNS, answers.map(answerCells), { align: ANSWER_COLUMNS.map((_, i) => (i < 2 ? 'left' : 'right')) }), '', ANSWER_NOTE, ''];
}

/** Long lists (a suite's anomalies) fold away so the answer stays on the first screen. */
const LINES_SHOWN_OPEN = 6;

/** The answer first: the suite's verdict, each strategy's answer, why, the thresholds and what nobody asked for. */
function verdictSection(result: ResultFile): string[] {
  const { headline, reasons, thresholds, anomalies } = verdictLines(result);
  const out = ['## Verdict', '', `**${headline}**`, ''];
  out.push(...answersTable(result));
  for (const [title, lines] of [
    ['Why', reasons],
    ['Thresholds', thresholds.map((t) => t.line)],
    ['Anomalies (from the ground truth; they do not change the verdict)', anomalies],
  ] as const) {
    if (lines.length === 0) continue;
    const items = lines.map((line) => `- ${line}`);
    if (lines.length > LINES_SHOWN_OPEN) out.push(`<details><summary>${title}: ${lines.length}</summary>`, '', ...items, '', '</details>', '');
    else out.push(`${title}:`, '', ...items, '');
  }
  return out;
}

/** Per run, what the measurement itself cost in CPU; one line when nothing was measured. */
function footprintSection(result: ResultFile): string[] {
  const measured = result.runs.filter((r) => r.footprint !== null);
  const missing = result.runs.filter((r) => r.footprint === null);
  if (measured.length === 0) return [`Measurement footprint: ${footprintMissingReason(result)}.`, ''];
  const out = [`**Measurement footprint.** ${FOOTPRINT_INTRO}`, ''];
  out.push(
    ...markdownTable(
      FOOTPRINT_COLUMNS,
      measured.map((r) => footprintRow(r, r.footprint!)),
      { align: FOOTPRINT_COLUMNS.map((_, i) => (i === 0 ? 'left' : 'right')) },
    ),
    '',
  );
  if (missing.length > 0)
    out.push(`Not measured for ${missing.map((r) => `${r.label} on ${r.topology.kind}`).join(', ')}: ${footprintMissingReason(result)}.`, '');
  return out;
}

/** GitHub-flavoured Markdown for a PR or a design review, rendered from the result file alone. */
export function renderMarkdown(result: ResultFile): string {
  const runs = result.runs;
  // An old or hand-made result may still hold a password: the report shows what a redacted copy says.
  const scenario = redactSecrets(result.scenario);
  const name = typeof scenario.name === 'string' ? scenario.name : 'scenario';
  const load = scenario.load as { mode?: string; rate?: number; concurrency?: number; duration?: number; workers?: number } | undefined;
  const out: string[] = [`# tokenbench: ${name}`, ''];
  if (result.interrupted) out.push('> **Interrupted**: this result is partial (the run was stopped before the end).', '');
  if (result.mergedFrom)
    out.push(
      `> **Merged** from ${result.mergedFrom.files.length} results (${result.mergedFrom.files.map((f) => `\`${f}\``).join(', ')}): ${result.mergedFrom.note}`,
      '',
    );
  const latencyMeaning = load?.mode === 'closed' ? 'closed loop: latency is service time' : 'latency from the intended start: coordinated omission corrected';
  out.push(`${suiteDescription(result)} (${latencyMeaning}); ${result.environment.cpus} CPUs.`, '', ...verdictSection(result));
  const shortOfCpu = footprintWarning(runs);
  if (shortOfCpu) out.push(`> **${shortOfCpu.title}.** ${shortOfCpu.text} Per run: the measurement footprint under Environment.`, '');
  out.push(...summarySection(result), ...latencySection(runs));
  out.push(...serversSection(result));
  out.push(...faultsSection(result));
  out.push(...durabilitySection(runs));
  out.push(...propagationSection(runs));
  const points = whatThisMeans(runs);
  out.push('## What this means', '');
  if (points.length === 0) out.push('- No fault, no violation: the runs differ in latency and Redis cost only (see the summary).');
  for (const p of points) out.push(`- ${p}`);
  out.push('');
  const slipped = runs.filter((r) => r.slip && r.slip.p99 > 1);
  if (slipped.length > 0) {
    out.push(
      `> Generator slip: ${slipped.map((r) => `${r.label} on ${r.topology.kind} launched its p99 operation ${ms(r.slip!.p99)} ms late`).join('; ')}. Latencies include it (they count from the intended start), but a large slip means the load generator itself was short of CPU.`,
      '',
    );
  }
  out.push(
    '## Scenario',
    '',
    'Reproduce with `tokenbench run --scenario scenario.json` (written beside result.json):',
    '',
    '```json',
    JSON.stringify(scenario, null, 2),
    '```',
    '',
    '## Environment',
    '',
    ...environmentTable(result),
    '',
    ...footprintSection(result),
  );
  return `${out.join('\n')}\n`;
}
