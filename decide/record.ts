import { formatDuration } from '../core/duration.ts';
import { formatBytes, formatNumber as num } from '../core/format.ts';
import { escapeCell, markdownTable } from '../core/markdown.ts';
import { verdictWord } from '../result/verdict.ts';
import { LOCAL_BYTES_PER_ENTRY } from './cost.ts';
import { type Cell, type Decision, type OptionAssessment, optionTitle } from './decide.ts';

export interface RecordMeta {
  /** The requirements file, as the user named it. */
  requirementsFile: string;
  /** ISO date; passed in so the renderer stays pure and its output testable. */
  date: string;
  tokenbenchVersion: string;
  /** How the evidence was obtained, e.g. "runs made by this decide (3 s measured each)". */
  evidenceNote: string;
  /** One sentence on the fault the runs used when it is not the planned one (no partition on this machine: a pause). */
  faultNote?: string;
  /** Environment of the runs (Redis version, CPUs), when known. */
  environment?: string;
}

function cellText(cell: Cell | undefined): string {
  if (!cell) return '';
  const mark = cell.status === 'met' ? '**met**' : cell.status === 'not met' ? '**not met**' : '*not measured*';
  return `${mark}: ${escapeCell(cell.figure)}`;
}

function optionName(o: OptionAssessment): string {
  if (o.verifier) return `${optionTitle(o).slice(0, -1)}, ${o.topology})`;
  return `${optionTitle(o)}${o.topology ? ` (${o.topology})` : ''}`;
}

function context(d: Decision, meta: RecordMeta): string[] {
  const r = d.requirements;
  const lines = [
    '## Context',
    '',
    `Requirements from \`${meta.requirementsFile}\`:`,
    '',
    `- Revocation: ${d.rows[0]!.title}${r.revocation.revokeAllDevices ? "; revoke all of a user's devices at once" : ''}${r.revocation.maxSessionsPerUser > 0 ? `; at most ${r.revocation.maxSessionsPerUser} sessions per user` : ''}${r.revocation.onlineUserCount ? '; count online users' : ''}${r.revocation.neverAcceptRevoked ? '; no revoked token may ever be accepted' : ''}.`,
    `- Verify latency: p99 ≤ ${formatDuration(r.latency.verifyP99)}${r.latency.verifyP999 !== null ? `, p99.9 ≤ ${formatDuration(r.latency.verifyP999)}` : ''}; ${num(r.latency.peakVerifyRate)} verifies/s at peak.`,
    `- Tokens: access ${formatDuration(r.tokens.accessTtl)}, refresh ${formatDuration(r.tokens.refreshTtl)}, leeway ${formatDuration(r.tokens.leeway)}.`,
    `- Scale: ${num(r.scale.activeUsers)} active users × ${num(r.scale.tokensPerUser)} tokens, ${num(r.scale.revocationsPerDay)} revocations per day.`,
    `- Redis: ${r.redis.topologies.length ? `the team can run ${r.redis.topologies.join(', ')}` : 'not allowed'}; when unreachable, ${r.redis.onFailure === 'deny' ? 'deny (fail-closed)' : 'allow (fail-open)'}; acknowledged revocations ${r.redis.ackedRevocationsMayBeLost ? 'may be lost on failover' : 'must survive a failover'}${r.redis.maxUnavailability !== null ? `; at most ${formatDuration(r.redis.maxUnavailability)} unavailable when a node fails` : ''}.`,
  ];
  if (r.assumptions.redisOpsPerNode !== null)
    lines.push(`- Assumption: one Redis primary sustains ${num(r.assumptions.redisOpsPerNode)} ops/s (not measured here).`);
  lines.push(
    '',
    `Evidence: ${meta.evidenceNote}.${meta.faultNote ? ` ${meta.faultNote}` : ''}${meta.environment ? ` Environment: ${meta.environment}.` : ''}`,
    '',
  );
  return lines;
}

function optionsTable(d: Decision): string[] {
  const rows = d.rows.map((row) => [escapeCell(row.title), ...d.options.map((o) => cellText(o.cells[row.id]))]);
  // Raw: each cell is escaped where it comes from (cellText keeps its **met** marks).
  const lines = ['## Options considered', '', ...markdownTable(['requirement', ...d.options.map((o) => escapeCell(optionName(o)))], rows, { raw: true })];
  lines.push(
    '',
    'Each option is shown on the allowed topology where it does best. "not measured": the design allows it but no run measured it; run `tokenbench decide` without `--result` to measure it.',
    '',
  );
  const team = d.options.filter((o) => o.verifier);
  if (team.length > 0)
    lines.push(
      `${team.map(optionName).join(', ')}: the team's own verifier${team.length === 1 ? '' : 's'}, judged by ${team.length === 1 ? 'its' : 'their'} measured runs only: tokenbench does not know ${team.length === 1 ? 'its' : 'their'} design, so what needs it is "not measured". \`tokenbench decide\` never plans ${team.length === 1 ? 'it' : 'them'}: give ${team.length === 1 ? 'its' : 'their'} results with \`--result\`.`,
      '',
    );
  const out = d.options.filter((o) => o.disqualification);
  if (out.length > 0) {
    lines.push('### Disqualified', '');
    for (const o of out) lines.push(`- ${o.disqualification}`);
    lines.push('');
  }
  return lines;
}

function decisionSection(d: Decision): string[] {
  const lines = ['## Decision', ''];
  const rec = d.recommendation;
  if (!rec) {
    const c = d.closest!;
    lines.push(`**No option meets every requirement.** The closest is ${optionName(c.option)}, which fails ${c.failing.map((f) => `'${f}'`).join(', ')}.`, '');
    lines.push(`Relax ${c.failing.length === 1 ? 'that requirement' : 'one of those requirements'}, or allow another topology, and decide again.`, '');
    return lines;
  }
  const option = d.options.find((o) => o.scheme === rec.scheme && o.verifier?.label === rec.verifier?.label && o.verifier?.kind === rec.verifier?.kind)!;
  lines.push(`**Use ${optionTitle(rec)}${rec.topology ? ` on ${rec.topology} Redis` : ', without Redis'}.**`, '');
  lines.push(
    ...markdownTable(
      ['setting', 'value'],
      rec.settings.map((s) => [s.name, s.value]),
    ),
  );
  lines.push('', `- Where Redis is needed: ${rec.redisNeeded}`, `- Where it is not: ${rec.redisNotNeeded}`);
  if (rec.unmeasured.length > 0)
    lines.push(
      `- ${rec.verifier ? "Not measured (a team's verifier: only what was measured is known)" : 'Met by design but not measured'}: ${rec.unmeasured.map((u) => `'${u}'`).join(', ')}.`,
    );
  const runners = d.options.filter((o) => o !== option && !o.disqualification);
  const measured = runners.filter((o) => o.notMeasured === 0);
  const unmeasured = runners.filter((o) => o.notMeasured > 0);
  if (measured.length > 0)
    lines.push(
      `- Also meets every requirement, measured: ${measured.map(optionName).join(', ')}; ranked lower for putting Redis on the verify path, costing more or being harder to run.`,
    );
  if (unmeasured.length > 0) lines.push(`- Not ruled out, but not fully measured: ${unmeasured.map(optionName).join(', ')}.`);
  lines.push('');
  return lines;
}

function costSection(d: Decision): string[] {
  const rows = d.options.map((o) => {
    const c = o.cost;
    if (o.verifier) return [optionName(o), 'not measured', 'not measured', 'not measured', 'not measured', 'not measured'];
    return [
      optionName(o),
      num(c.liveEntries),
      c.memoryBytes === null ? 'not measured' : formatBytes(c.memoryBytes),
      num(c.opsPerSec, 1),
      c.nodes === null ? 'not measured' : c.nodes,
      c.verifier === null ? '0 B' : `${formatBytes(c.verifier.memoryBytes)}${o.scheme === 'cached-blacklist' ? ' or more' : ''}`,
    ];
  });
  const lines = [
    '## Cost model',
    '',
    `Per-node throughput: ${d.capacity.note}.`,
    '',
    ...markdownTable(['option', 'live entries', 'Redis memory', 'Redis ops/s', 'primaries', 'memory per verifier'], rows),
  ];
  lines.push('', 'The arithmetic:', '');
  for (const o of d.options) {
    if (o.verifier) {
      lines.push(`- **${optionName(o)}**: ${o.cost.entriesArithmetic}.`);
      continue;
    }
    if (o.cost.nodes === 0) {
      lines.push(`- **${optionName(o)}**: no Redis: 0 entries, 0 B, 0 ops/s.`);
      continue;
    }
    lines.push(
      `- **${optionName(o)}**`,
      `  - entries: ${o.cost.entriesArithmetic}`,
      `  - memory: ${o.cost.memoryArithmetic}`,
      `  - operations: ${o.cost.opsArithmetic}`,
      `  - primaries: ${o.cost.nodesArithmetic}`,
    );
    if (o.cost.verifier) lines.push(`  - per verifier: ${o.cost.verifier.entriesArithmetic}`, `  - memory per verifier: ${o.cost.verifier.memoryArithmetic}`);
  }
  const compact = d.options.find((o) => o.scheme === 'compact-blacklist' && o.cost.bytesPerEntry !== null);
  if (compact)
    lines.push(
      '',
      `Bytes per entry come from each run's own keys, a few hundred entries. The compact layout's sets were nearly empty there, so its ${num(compact.cost.bytesPerEntry!, 1)} B overstates it at scale, where a set's overhead is shared by many members (about 100 B at 20,000 entries, see the README).`,
    );
  lines.push(
    '',
    "Memory is bytes per entry (MEMORY USAGE of a sample of keys, measured) × live entries: every live token for a whitelist, every session for double-token, and for a blacklist the revocations still inside their token's lifetime. Operations are peak verifies × measured round trips per verify, plus revocations, plus the logins (whitelist) or refreshes (double-token) that renew every live token once per access lifetime.",
  );
  if (d.options.some((o) => o.cost.verifier))
    lines.push(
      '',
      `Memory per verifier is what each verifier instance holds besides Redis: the replicated denylist keeps every live entry, the cached one an entry per token it verified (negative answers too), each at ${LOCAL_BYTES_PER_ENTRY} B, a key and its expiry in a JS Map measured in V8 (Node 20). The cached denylist's Redis operations are its misses: the measured round trips per verify.`,
    );
  lines.push('');
  return lines;
}

function evidenceSection(d: Decision): string[] {
  const lines = ['## Evidence', ''];
  if (d.evidenceFiles.length === 0) lines.push('No result files: every measured cell is "not measured".');
  for (const file of d.evidenceFiles) lines.push(`- \`${file}\``);
  const used = d.options.flatMap((o) => o.runs);
  if (used.length > 0) {
    lines.push('', 'Runs behind the figures above, with their checker verdicts:', '');
    for (const run of used)
      lines.push(`- ${run.source}: ${verdictWord(run.verdict.valid)}${run.verdict.reasons.length > 0 ? ` (${run.verdict.reasons.join(' ')})` : ''}`);
  }
  lines.push('');
  return lines;
}

/** The decision record (context, options, decision, consequences) as GitHub-flavoured Markdown. */
export function renderDecisionRecord(d: Decision, meta: RecordMeta): string {
  const lines = [
    `# Decision record: ${d.requirements.name}`,
    '',
    `Status: proposed. Generated by \`tokenbench decide\` ${meta.tokenbenchVersion} on ${meta.date} from measurements; re-run it when the requirements or the measurements change.`,
    '',
    ...context(d, meta),
    ...optionsTable(d),
    ...decisionSection(d),
    '## Consequences',
    '',
    ...(d.recommendation
      ? d.recommendation.consequences.map((c) => `- ${c}`)
      : [
          `Nothing is decided yet. If the team relaxes what ${optionName(d.closest!.option)} fails and takes it:`,
          '',
          ...d.closest!.consequences.map((c) => `- ${c}`),
        ]),
    '',
    ...costSection(d),
    ...evidenceSection(d),
  ];
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
