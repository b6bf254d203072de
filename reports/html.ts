import { formatNumber as fmtCount, formatMs as fmtMs, formatSeconds as fmtSeconds } from '../core/format.ts';
import { redactUrls } from '../core/secrets.ts';
import type { FaultFigures } from '../result/checks.ts';
import { headlineFigures } from '../result/figures.ts';
import type { ResultFile, StrategyRunResult } from '../result/schema.ts';
import { verdictWord } from '../result/verdict.ts';
import { FOOTPRINT_COLUMNS, FOOTPRINT_INTRO, footprintMissingReason, footprintRow, footprintSuiteSummary, footprintWarning } from './footprint.ts';
import { CHART_STYLE, chartsSection, fmtOffset } from './html-charts.ts';
import { LATENCY_COLUMNS, LATENCY_DIFFERS_RULE, LATENCY_INTRO, latencyRows, serviceTimeNote } from './latency.ts';
import {
  acrossInstancesText,
  DURABILITY_COLUMNS,
  DURABILITY_INTRO,
  durabilityRow,
  faultComparison,
  localStateText,
  missStormText,
  unavailabilityText,
  verdictLines,
} from './phrases.ts';
import { SERVER_FIGURE_NAMES, SERVER_FIGURES, SERVERS_NOTE, serverCellText, serverComparison } from './servers.ts';
import { ANSWER_COLUMNS, ANSWER_NOTE, answerCells, type StrategyAnswer, strategyAnswers } from './strategy-answers.ts';
import {
  FAILOVER_EVENTS,
  faultLabel,
  injectedFaults,
  panelTitle,
  perFaultFigures,
  strategyColours,
  strategyName,
  suiteDescription,
  suiteMatrix,
  suitePanels,
  topologyName,
} from './suite.ts';
import { escapeXml as esc, formatNumber } from './svg.ts';

type Run = StrategyRunResult;
type Fault = Run['faults'][number];

/** Sentinel logs dozens of events per failover; the rest stay in result.json. */
const MAX_EVENTS_PER_FAULT = 40;

export function renderHtml(result: ResultFile): string {
  const runs = result.runs;
  const colourOf = strategyColours(runs);
  const _colours = runs.map(colourOf);
  const title = scenarioName(result);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)} · tokenbench report</title>
<style>${STYLE}${CHART_STYLE}</style>
</head>
<body>
<script>${ERROR_CAPTURE_SCRIPT}</script>
<main>
${headerSection(result, title, colourOf)}
${summarySection(result, colourOf)}
${chartsSection(result, colourOf)}
${serversSection(result, colourOf)}
${faultsSection(result, colourOf)}
${durabilitySection(runs)}
${propagationSection(runs)}
<footer>Rendered from result.json (schema ${result.schemaVersion}) by tokenbench ${esc(result.tokenbenchVersion)}. Self-contained: no external resources.</footer>
</main>
<script>${RENDER_CHECK_SCRIPT}</script>
</body>
</html>
`;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function scenarioName(result: ResultFile): string {
  const name = result.scenario.name;
  // The only scenario text the page shows; an old or hand-made result may hold a URL with a password.
  return typeof name === 'string' && name.trim() !== '' ? redactUrls(name) : 'tokenbench run';
}

function fmtCreated(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function swatch(colour: string): string {
  return `<span class="swatch" style="background:${colour}"></span>`;
}

// ---------------------------------------------------------------------------------------------
// Header and summary

function headerSection(result: ResultFile, title: string, colourOf: (run: Run) => string): string {
  const env = result.environment;
  const environment = [
    `tokenbench ${env.tokenbench}${env.gitSha ? ` (${env.gitSha.slice(0, 12)})` : ''}`,
    `Node ${env.node}`,
    env.redis,
    `${env.cpus} × ${env.cpuModel}`,
    env.platform,
  ];
  const banner = result.interrupted
    ? '<div class="banner" role="alert"><strong>Interrupted.</strong> This run was stopped before it finished: the figures cover only what completed, and runs marked “interrupted” are partial.</div>'
    : '';
  const merged = result.mergedFrom
    ? `<div class="banner" role="note"><strong>Merged</strong> from ${result.mergedFrom.files.length} results (${result.mergedFrom.files.map(esc).join(', ')}): ${esc(result.mergedFrom.note)}</div>`
    : '';
  const shortOfCpu = footprintWarning(result.runs);
  const shortBanner = shortOfCpu
    ? `<div class="banner" role="alert"><strong>${esc(shortOfCpu.title)}.</strong> ${esc(shortOfCpu.text)} Per run: the measurement footprint above.</div>`
    : '';
  return `<header>
<p class="eyebrow">tokenbench report</p>
<h1>${esc(title)}</h1>
<p class="meta">Created ${esc(fmtCreated(result.createdAt))}</p>
<p class="meta">${environment.map(esc).join(' · ')}</p>
<p class="meta suite">${esc(suiteDescription(result))}</p>
${banner}${merged}
${verdictBox(result, colourOf)}
${footprintDetails(result)}
${shortBanner}
<nav><a href="#summary">Summary</a><a href="#charts">Charts</a><a href="#faults">Faults</a>${result.runs.some((r) => durabilityRow(r)) ? '<a href="#durability">Durability</a>' : ''}</nav>
</header>`;
}

/** Long lists (a suite's anomalies) fold away so the answer stays on the first screen. */
const LINES_SHOWN_OPEN = 6;

/** The answer first: the suite's verdict, each strategy's answer over all its runs, why, the thresholds and the anomalies. */
function verdictBox(result: ResultFile, colourOf: (run: Run) => string): string {
  const { headline, reasons, thresholds, anomalies } = verdictLines(result);
  const list = (title: string, lines: readonly string[]) => {
    if (lines.length === 0) return '';
    const items = `<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`;
    return lines.length > LINES_SHOWN_OPEN
      ? `<details class="verdict-list"><summary class="verdict-title">${esc(title)}: ${lines.length}</summary>${items}</details>`
      : `<p class="verdict-title">${esc(title)}</p>${items}`;
  };
  return `<section class="verdict verdict-${verdictWord(result.verdict.valid)}" aria-label="verdict">
<p class="verdict-headline"><strong>${esc(headline)}</strong></p>
${answersTable(result, colourOf)}
${list('Why', reasons)}${list(
  'Thresholds',
  thresholds.map((t) => t.line),
)}${list('Anomalies (from the ground truth; they do not change the verdict)', anomalies)}
</section>`;
}

function answersTable(result: ResultFile, colourOf: (run: Run) => string): string {
  const answers = strategyAnswers(result);
  if (answers.length === 0) return '';
  const bad = (answer: StrategyAnswer, column: number) =>
    (column === 1 && answer.valid === false) || (column === 2 && (answer.lost ?? 0) > 0) ? ' bad' : column === 3 && answer.validRejected > 0 ? ' warn' : '';
  const rows = answers.map((answer) => {
    const cells = answerCells(answer);
    return `<tr><th scope="row">${swatch(colourOf(answer.runs[0]!))}${esc(cells[0]!)}</th>${cells
      .slice(1)
      .map((text, i) => `<td class="${i === 0 ? '' : 'num'}${bad(answer, i + 1)}">${esc(text)}</td>`)
      .join('')}</tr>`;
  });
  const head = ANSWER_COLUMNS.map((c, i) => `<th scope="col"${i >= 2 ? ' class="num"' : ''}>${esc(c)}</th>`).join('');
  return `<table class="answers"><thead><tr>${head}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<p class="note">${esc(ANSWER_NOTE)}</p>`;
}

/** The suite's footprint in one line, each run's in a table beneath it. */
function footprintDetails(result: ResultFile): string {
  const summary = footprintSuiteSummary(result.runs);
  if (summary === undefined) return `<p class="meta">Measurement footprint: ${esc(footprintMissingReason(result))}.</p>`;
  const measured = result.runs.filter((r) => r.footprint !== null);
  const missing = result.runs.filter((r) => r.footprint === null);
  const rows = measured
    .map(
      (r) =>
        `<tr>${footprintRow(r, r.footprint!)
          .map((text, i) => (i === 0 ? `<th scope="row">${esc(text)}</th>` : `<td class="num">${esc(text)}</td>`))
          .join('')}</tr>`,
    )
    .join('\n');
  const head = FOOTPRINT_COLUMNS.map((c, i) => `<th scope="col"${i === 0 ? '' : ' class="num"'}>${esc(c)}</th>`).join('');
  const missingNote =
    missing.length > 0
      ? `<p class="note">Not measured for ${esc(missing.map((r) => `${r.label} on ${r.topology.kind}`).join(', '))}: ${esc(footprintMissingReason(result))}.</p>`
      : '';
  return `<details class="meta footprint"><summary>Measurement footprint: ${esc(summary)}</summary>
<p class="note">${esc(FOOTPRINT_INTRO)}</p>
<div class="table-scroll"><table class="footprint">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody></table></div>${missingNote}
</details>`;
}

function countCell(value: number | null, severity: 'bad' | 'warn' | 'plain'): string {
  if (value === null) return '<td class="num muted">-</td>';
  const flag = value > 0 && severity !== 'plain' ? ` ${severity}` : '';
  return `<td class="num${flag}">${value.toLocaleString('en-US')}</td>`;
}

function runCell(run: Run, colour: string): string {
  return `<th scope="row">${swatch(colour)}${esc(strategyName(run))}${run.interrupted ? ' <span class="tag">interrupted</span>' : ''}${run.verdict.valid === true ? '' : ` <span class="tag">${verdictWord(run.verdict.valid)}</span>`}</th>`;
}

const num = (text: string) => `<td class="num">${text}</td>`;

/** The headline figures of a run: what fits a 1280 px page beside its name. */
function summaryRow(run: Run, colour: string): string {
  const verify = run.latency.verify?.all;
  const figures = headlineFigures(run);
  return `<tr>${runCell(run, colour)}
${num(fmtMs(verify?.p50))}${num(`${fmtMs(verify?.p99)}${serviceTimeNote(run) ? `<br><span class="service-time">service time ${fmtMs(run.latency.verify?.serviceTime?.all.p99)}</span>` : ''}`)}${num(fmtMs(verify?.p999))}
${num(run.load.achievedRate.toLocaleString('en-US'))}
${countCell(figures.violations, 'bad')}${countCell(figures.validRejected, 'warn')}${countCell(figures.lostRevocations, 'bad')}
${num(esc(unavailabilityText(run, 'short')))}
</tr>`;
}

/** Everything else the result says of a run: the JWT, the Redis cost, revoked accepted by kind. */
function figuresRow(run: Run, colour: string): string {
  const verify = run.latency.verify?.all;
  const figures = headlineFigures(run);
  const revoked = run.checks['revoked-accepted'].counts;
  return `<tr>${runCell(run, colour)}
<td>${esc(topologyName(run))}</td>
<td class="nowrap">${esc(run.engine)} ${esc(run.alg)}</td>
${num(fmtMs(verify?.max))}
${num(run.redis.roundTripsPerVerify === null ? '-' : formatNumber(run.redis.roundTripsPerVerify))}
${num(run.redis.bytesPerEntry === null ? '-' : run.redis.bytesPerEntry.toFixed(1))}
${countCell(figures.revokedAccepted, 'plain')}${countCell(revoked.withinGuarantee, 'plain')}${countCell(revoked.failOpen, 'warn')}
${countCell(run.checks['valid-rejected'].counts.entryLost, 'bad')}
</tr>`;
}

const SUMMARY_COLUMNS = 9;

function summarySection(result: ResultFile, colourOf: (run: Run) => string): string {
  const matrix = suiteMatrix(result);
  // One tbody per panel: the panel's title is the row group's header, so no topology column is needed.
  const groups = suitePanels(result)
    .map(
      (panel) => `<tbody>
<tr class="group"><th colspan="${SUMMARY_COLUMNS}" scope="rowgroup">${esc(panelTitle(panel, matrix))}</th></tr>
${panel.runs.map((run) => summaryRow(run, colourOf(run))).join('\n')}
</tbody>`,
    )
    .join('\n');
  const details = result.runs.map((run) => figuresRow(run, colourOf(run))).join('\n');
  return `<section id="summary">
<h2>Summary</h2>
<table class="summary">
<thead><tr>
<th scope="col">strategy</th>
<th scope="col" class="num">verify<br>p50 ms</th><th scope="col" class="num">p99<br>ms</th><th scope="col" class="num">p99.9<br>ms</th>
<th scope="col" class="num">ops/s</th><th scope="col" class="num">violations</th>
<th scope="col" class="num">valid<br>rejected</th><th scope="col" class="num">lost<br>revocations</th><th scope="col" class="num">longest<br>unavailability</th>
</tr></thead>
${groups || `<tbody><tr><td colspan="${SUMMARY_COLUMNS}" class="muted">No strategy ran.</td></tr></tbody>`}
</table>
<p class="note">Latency counts from when each operation was due (coordinated omission corrected). <em>Violations</em>: revoked tokens accepted after the revocation was acknowledged, beyond the strategy's guarantee. <em>Valid rejected</em>: never-revoked tokens rejected because the store was unavailable, an entry was lost, or the JWT or clock failed. <em>Lost revocations</em>: acknowledged revocations missing at reconciliation or resurrected, each token once. <em>Longest unavailability</em>: the longest time verify gave no definite answer; with client groups, the group that waited longer than the run as a whole is named next to it.</p>
<details class="figures-per-run"><summary>All figures per run</summary>
<table class="summary">
<thead><tr>
<th scope="col">strategy</th><th scope="col">topology</th><th scope="col">JWT</th><th scope="col" class="num">verify<br>max ms</th>
<th scope="col" class="num">Redis round<br>trips / verify</th><th scope="col" class="num">bytes<br>/ entry</th>
<th scope="col" class="num">revoked<br>accepted</th><th scope="col" class="num">within<br>guarantee</th><th scope="col" class="num">fail-<br>open</th>
<th scope="col" class="num">valid rejected:<br>entry lost</th>
</tr></thead>
<tbody>
${details}
</tbody></table>
<p class="note"><em>Revoked accepted</em>: replayed revoked tokens that verified: within the strategy's guarantee, fail-open while Redis was unreachable, or violations (in the table above). <em>Entry lost</em>: valid tokens rejected because an allowlist entry was lost or evicted.</p>
</details>
${latencyDetails(result.runs, colourOf)}
</section>`;
}

// ---------------------------------------------------------------------------------------------
// Faults and the ground truth that followed

function figureValue(value: number | string | null | undefined, missing: string): string {
  return typeof value === 'number' ? `${fmtMs(value)} ms` : `<span class="muted">${missing}</span>`;
}

function faultFigures(figures: FaultFigures | undefined): string {
  if (!figures) return '<p class="muted">No unavailability figures for this fault.</p>';
  return `<dl class="figures">
<div><dt>detected after</dt><dd>${figureValue(figures.detectMs, 'no outage seen')}</dd><dd class="explain">first verify without a definite answer</dd></div>
<div><dt>recovered after</dt><dd>${figureValue(figures.recoverMs, 'not within the run')}</dd><dd class="explain">first definite verify answer again</dd></div>
<div><dt>p99 steady after</dt><dd>${figureValue(figures.steadyP99Ms, 'not settled by the end')}</dd><dd class="explain">verify p99 back within its steady spread</dd></div>${networkFigures(figures)}
</dl>`;
}

/** A network fault: the demotion after the heal, and the revocations acknowledged in each window. */
function networkFigures(figures: FaultFigures): string {
  if (figures.acksDuringFault === undefined) return '';
  const byNode = (n: number | undefined) => (n === undefined ? '' : `, ${fmtCount(n)} by ${esc(figures.node ?? figures.target)}`);
  return `
<div><dt>demoted after the heal</dt><dd>${figureValue(figures.demotedAfterHealMs, 'no demotion seen')}</dd><dd class="explain">the fault's node, primary -> replica</dd></div>
<div><dt>acked during the fault</dt><dd>${fmtCount(figures.acksDuringFault)}</dd><dd class="explain">revocations, all nodes${byNode(figures.acksByNode?.duringFault)}</dd></div>
<div><dt>acked after the heal</dt><dd>${fmtCount(figures.acksAfterHealBeforeDemotion ?? 0)}</dd><dd class="explain">before the demotion, all nodes${byNode(figures.acksByNode?.afterHealBeforeDemotion)}</dd></div>`;
}

function eventsTable(run: Run, fault: Fault, untilMs: number): string {
  const after = run.events.filter((e) => e.atMs >= fault.atMs && e.atMs < untilMs).sort((a, b) => a.atMs - b.atMs);
  if (after.length === 0) return '<p class="muted">No topology events were recorded after this fault.</p>';
  const rows = after
    .slice(0, MAX_EVENTS_PER_FAULT)
    .map(
      (e) =>
        `<tr${FAILOVER_EVENTS.has(e.type) ? ' class="key-event"' : ''}><td class="num">${fmtOffset(e.atMs - fault.atMs)}</td><td>${esc(e.source)}</td><td><code>${esc(e.type)}</code></td><td>${esc(e.node ?? '')}</td><td class="detail">${esc(e.detail ?? '')}</td></tr>`,
    );
  const more =
    after.length > MAX_EVENTS_PER_FAULT
      ? `<tr><td colspan="5" class="muted">… ${after.length - MAX_EVENTS_PER_FAULT} more events in result.json</td></tr>`
      : '';
  return `<div class="table-scroll"><table class="events"><thead><tr><th class="num">after fault</th><th>source</th><th>event</th><th>node</th><th>detail</th></tr></thead><tbody>
${rows.join('\n')}${more}
</tbody></table></div>`;
}

function anomaliesIn(run: Run, fromMs: number, untilMs: number): string {
  const found = run.anomalies.filter((a) => a.atMs !== null && a.atMs >= fromMs && a.atMs < untilMs);
  return found.length === 0 ? '' : `<ul class="anomalies">${found.map((a) => `<li><strong>${esc(a.kind)}</strong>: ${esc(a.sentence)}</li>`).join('')}</ul>`;
}

function faultArticle(run: Run, colour: string, fault: Fault, nextAtMs: number): string {
  const healed = fault.healedAtMs === undefined ? '' : `, healed at ${fmtSeconds(fault.healedAtMs)}`;
  const error = fault.error ? `<p class="warning">The fault could not be applied: ${esc(fault.error)}</p>` : '';
  // Folded: a suite has one per run and fault, each with dozens of events; the comparison above is the headline.
  return `<details class="fault"${fault.error ? ' open' : ''}>
<summary>${swatch(colour)}<strong>${esc(strategyName(run))}</strong>: ${esc(faultLabel(fault, run))} at ${fmtSeconds(fault.atMs)}${esc(healed)}: figures and the ground truth</summary>
${error}
${faultFigures(perFaultFigures(run, fault))}
${anomaliesIn(run, fault.atMs, nextAtMs)}
<h4>Ground-truth events after the fault</h4>
${eventsTable(run, fault, nextAtMs)}
</details>`;
}

function runFaults(run: Run, colour: string): string {
  const faults = injectedFaults(run);
  const articles = faults.map((fault, i) => faultArticle(run, colour, fault, faults[i + 1]?.atMs ?? Infinity));
  const settle = run.faults.filter((f) => f.action === 'settle' && f.error);
  const settleNotes = settle.map((f) => `<p class="warning">${esc(run.label)}: after the load stopped, the topology did not settle: ${esc(f.error ?? '')}</p>`);
  return [...articles, ...settleNotes].join('\n');
}

function faultComparisonTable(runs: readonly Run[], colourOf: (run: Run) => string): string {
  const { columns, rows } = faultComparison(runs);
  if (rows.length === 0) return '';
  // One row per fault of each run, in run order: the colour comes from the run the row's strategy names.
  const colourOfRow = runs.flatMap((run) => injectedFaults(run).map(() => colourOf(run)));
  const body = rows.map(
    (cells, r) =>
      `<tr><th scope="row">${swatch(colourOfRow[r]!)}${esc(cells[0]!)}</th>${cells
        .slice(1)
        .map((text, i) => `<td class="${columns[i + 1] === 'fault' ? 'fault-name' : 'num'}">${esc(text)}</td>`)
        .join('')}</tr>`,
  );
  const head = columns.map((c, i) => `<th scope="col"${i === 0 || c === 'fault' ? '' : ' class="num"'}>${esc(c)}</th>`).join('');
  return `<table class="fault-comparison"><thead><tr>${head}</tr></thead><tbody>
${body.join('\n')}
</tbody></table>`;
}

/** One block per panel with a fault: its runs side by side, then each run's figures and ground truth, folded. */
function faultsSection(result: ResultFile, colourOf: (run: Run) => string): string {
  const matrix = suiteMatrix(result);
  const content = suitePanels(result)
    .map((panel) => {
      const runs = panel.runs
        .map((run) => runFaults(run, colourOf(run)))
        .filter(Boolean)
        .join('\n');
      if (!runs) return '';
      return `<article class="fault-panel" id="faults-${panel.id}">
<h3>${esc(panelTitle(panel, matrix))}</h3>
${faultComparisonTable(panel.runs, colourOf)}
${runs}
</article>`;
    })
    .filter(Boolean)
    .join('\n');
  return `<section id="faults">
<h2>Faults</h2>
${content || '<p class="muted">No faults were injected in this result.</p>'}
</section>`;
}

/** Every op type's latency, corrected and service time side by side, folded under the summary. */
function latencyDetails(runs: readonly Run[], colourOf: (run: Run) => string): string {
  const rows = latencyRows(runs);
  if (rows.length === 0) return '';
  const differ = rows.filter((r) => r.differs).length;
  const head = LATENCY_COLUMNS.map((c) => `<th scope="col"${c.align === 'right' ? ' class="num"' : ''}>${esc(c.title)}</th>`).join('');
  const body = rows.map(
    (r) =>
      `<tr${r.differs ? ' class="differs"' : ''}><th scope="row">${swatch(colourOf(r.run))}${esc(r.cells[0]!)}</th>${r.cells
        .slice(1)
        .map((text, i) => `<td${LATENCY_COLUMNS[i + 1]!.align === 'right' ? ' class="num"' : ''}>${esc(text)}</td>`)
        .join('')}</tr>`,
  );
  return `<details class="figures-per-run latency"><summary>Latency per operation: corrected and service time${differ > 0 ? ` (${differ} row${differ === 1 ? '' : 's'} where they differ, highlighted)` : ''}</summary>
<p class="note">${esc(LATENCY_INTRO)} Rows ${esc(LATENCY_DIFFERS_RULE)} are highlighted.</p>
<table class="summary latency"><thead><tr>${head}</tr></thead><tbody>
${body.join('\n')}
</tbody></table>
</details>`;
}

/** Suites on several servers: each strategy and topology across them; a difference beyond noise is marked. */
function serversSection(result: ResultFile, colourOf: (run: Run) => string): string {
  const comparison = serverComparison(result);
  if (!comparison) return '';
  const colourByStrategy = new Map(result.runs.map((run) => [strategyName(run), colourOf(run)]));
  const head = ['strategy', 'topology', ...SERVER_FIGURES.map((f) => SERVER_FIGURE_NAMES[f])]
    .map((c, i) => `<th scope="col"${i >= 2 ? ' class="num"' : ''}>${esc(c)}</th>`)
    .join('');
  const rows = comparison.rows.map(
    (row) =>
      `<tr><th scope="row">${swatch(colourByStrategy.get(row.strategy) ?? '#888')}${esc(row.strategy)}</th><td>${esc(row.topology)}</td>${SERVER_FIGURES.map(
        (f) => {
          const beyond = row.figures[f].beyondNoise === true;
          return `<td class="num${beyond ? ' warn' : ''}"${beyond ? ' title="beyond noise"' : ''}>${esc(serverCellText(f, row.figures[f]))}${beyond ? ' ▲' : ''}</td>`;
        },
      ).join('')}</tr>`,
  );
  return `<section id="servers">
<h2>Servers side by side: ${esc(comparison.servers.join(' / '))}</h2>
<table class="summary servers"><thead><tr>${head}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<p class="note">${esc(SERVERS_NOTE)} ▲ marks a difference beyond noise.</p>
</section>`;
}

/** Runs with a network fault: where their losses were acknowledged (result lost.byWindow / byNode / bySide). */
function durabilitySection(runs: readonly Run[]): string {
  const rows = runs.map(durabilityRow).filter((row) => row !== undefined);
  if (rows.length === 0) return '';
  const head = DURABILITY_COLUMNS.map((c, i) => `<th scope="col"${i >= 1 && i <= 4 ? ' class="num"' : ''}>${esc(c)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((text, i) => (i === 0 ? `<th scope="row">${esc(text)}</th>` : `<td${i <= 4 ? ' class="num"' : ''}>${esc(text)}</td>`)).join('')}</tr>`,
    )
    .join('\n');
  return `<section id="durability">
<h2>Durability</h2>
<p class="note">${esc(DURABILITY_INTRO)}</p>
<div class="table-scroll"><table class="durability"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table></div>
</section>`;
}

/** Runs with verifier instances (the lag across instances) or with state in the verifier (what it held): one line each. */
function propagationSection(runs: readonly Run[]): string {
  const items = runs.flatMap((run) =>
    [acrossInstancesText(run), localStateText(run), missStormText(run)].flatMap((text) =>
      text ? [`<li>${esc(`${run.label} on ${run.topology.kind}: ${text}.`)}</li>`] : [],
    ),
  );
  if (items.length === 0) return '';
  return `<section id="propagation">
<h2>Propagation</h2>
<ul>
${items.join('\n')}
</ul>
</section>`;
}

// ---------------------------------------------------------------------------------------------
// Page assets

/** First thing in the body, so an error anywhere later in the page is recorded where a test can see it. */
const ERROR_CAPTURE_SCRIPT = `window.onerror = function (message) { var b = document.body; b.dataset.errors = (b.dataset.errors ? b.dataset.errors + ' | ' : '') + String(message); };`;

/**
 * Last thing in the body: says "ok" only when every chart laid out with a size and has marks (or
 * says it had no data), so a headless browser can tell a drawn page from a blank one.
 */
const RENDER_CHECK_SCRIPT = `(function () {
  var charts = Array.prototype.slice.call(document.querySelectorAll('svg[data-chart]'));
  var missing = charts.filter(function (svg) {
    var box = svg.getBoundingClientRect();
    var drawn = svg.querySelectorAll('.mark').length > 0 || svg.getAttribute('data-empty') === 'true';
    return !drawn || box.width === 0 || box.height === 0;
  }).map(function (svg) { return svg.getAttribute('data-chart'); });
  document.body.dataset.rendered = charts.length > 0 && missing.length === 0 ? 'ok' : 'incomplete: ' + (missing.join(' ') || 'no charts');
})();`;

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #fafaf8; color: #1d1d1f; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 28px 32px 48px; }
header { border-bottom: 1px solid #ddd; padding-bottom: 16px; margin-bottom: 24px; }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: 0.08em; font-size: 12px; color: #777; }
h1 { margin: 2px 0 6px; font-size: 30px; }
h2 { font-size: 21px; margin: 36px 0 12px; }
h3 { font-size: 16px; margin: 0 0 8px; }
h4 { font-size: 14px; margin: 14px 0 6px; color: #444; }
.meta { margin: 2px 0; color: #555; font-size: 14px; }
nav { margin-top: 12px; display: flex; gap: 18px; font-size: 14px; }
nav a { color: #0b5cad; text-decoration: none; }
.verdict { margin: 14px 0 4px; padding: 10px 14px; border-radius: 6px; border: 1px solid; }
.verdict-valid { background: #e9f6ec; border-color: #2e8b57; }
.verdict-invalid { background: #fdecea; border-color: #c0392b; }
.verdict-unknown { background: #f2f2f2; border-color: #888; }
.verdict p, .verdict ul { margin: 4px 0; }
.verdict-title { font-weight: 600; }
details.footprint summary { cursor: pointer; }
details.footprint table { margin: 6px 0; }
table.footprint td.num { white-space: normal; }
.banner { margin: 14px 0 4px; padding: 10px 14px; border-radius: 6px; background: #fff4d6; border: 1px solid #e0b100; color: #5c4500; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; font-size: 13.5px; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e6e6e6; text-align: left; vertical-align: top; }
thead th { background: #f1f1ee; font-weight: 600; font-size: 12.5px; color: #333; }
table.summary thead th { vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tbody th { white-space: nowrap; }
table.summary th, table.summary td { padding: 6px 8px; }
table.summary thead th { white-space: nowrap; }
table.summary { width: 100%; }
table.summary tr.group th { background: #f6f6f3; font-size: 13px; color: #333; padding-top: 10px; white-space: normal; }
span.service-time { font-size: 11.5px; color: #8a5a00; }
table.latency thead th { white-space: normal; }
table.latency tbody th { white-space: normal; }
table.latency tr.differs td, table.latency tr.differs th { background: #fff7e0; }
table.answers { width: 100%; margin: 8px 0 4px; font-size: 13px; }
table.answers th, table.answers td { padding: 5px 8px; }
table.answers td { white-space: normal; }
table.answers td:nth-child(2) { min-width: 10.5em; }
.verdict details.verdict-list summary { cursor: pointer; margin: 4px 0; }
details.figures-per-run summary { cursor: pointer; margin: 8px 0; }
p.suite { font-weight: 600; color: #333; }
td.bad { color: #b00020; font-weight: 700; background: #fdecee; }
td.warn { color: #8a5a00; font-weight: 600; background: #fff7e0; }
.muted { color: #888; }
.nowrap { white-space: nowrap; }
.tag { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 3px; background: #fff4d6; color: #5c4500; border: 1px solid #e0b100; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 7px; vertical-align: -1px; }
.note { color: #555; font-size: 13px; max-width: 900px; }
figure.chart { margin: 0 0 28px; padding: 16px 16px 10px; background: #fff; border: 1px solid #e3e3e0; border-radius: 8px; }
figure.chart svg { display: block; max-width: 100%; height: auto; font-size: 12px; fill: #333; }
figcaption { color: #555; font-size: 13px; margin-top: 6px; }
svg .grid { stroke: #ececec; stroke-width: 1; }
svg .tick, svg .domain { stroke: #888; stroke-width: 1; }
svg .axis text { fill: #444; font-size: 12px; }
svg .axis-label { fill: #222; font-size: 13px; font-weight: 600; }
svg .no-data { fill: #888; font-size: 15px; font-style: italic; }
svg .legend text { fill: #222; }
article.fault-panel { background: #fff; border: 1px solid #e3e3e0; border-radius: 8px; padding: 14px 16px; margin-bottom: 18px; }
table.fault-comparison { width: 100%; margin: 4px 0 10px; }
table.fault-comparison td.fault-name { white-space: normal; }
details.fault { border-top: 1px solid #eee; padding: 8px 0 4px; }
details.fault > summary { cursor: pointer; }
dl.figures { display: flex; flex-wrap: wrap; gap: 12px 36px; margin: 6px 0 4px; }
dl.figures div { min-width: 200px; }
dl.figures dt { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: 0.04em; }
dl.figures dd { margin: 0; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
dl.figures dd.explain { font-size: 12px; font-weight: 400; color: #777; }
table.events td.detail { color: #555; font-size: 12.5px; word-break: break-word; }
tr.key-event td { background: #eef5ff; font-weight: 600; }
.warning { color: #8a3a00; background: #fff1e6; border: 1px solid #f0b58a; border-radius: 6px; padding: 6px 10px; }
footer { margin-top: 40px; color: #888; font-size: 12px; }
`;
