import { DEFAULT_DECIDE_DURATION_MS } from '../decide/plan.ts';
import { requirementsSchema } from '../decide/requirements.ts';
import { type CommandUsage, choicesOf, defaultsOf, durationText, type FlagTable, fieldsOfSchema, HELP_FLAG, isTransformed, optionsBlock } from './flags.ts';

export const DECIDE_FLAGS = {
  requirements: { type: 'string', value: '<file>', help: 'YAML or JSON requirements (see examples/decide/); required' },
  result: { type: 'multiple', value: '<result.json>', help: 'use these results instead of running; repeatable' },
  duration: {
    type: 'string',
    value: '<d>',
    default: durationText(DEFAULT_DECIDE_DURATION_MS),
    help: 'measured phase of each run, e.g. 3s (longer if a hang needs it)',
  },
  out: { type: 'string', value: '<dir>', default: 'results/decide-<timestamp>', help: 'where decision.md and the runs go' },
  json: { type: 'boolean', help: 'print the decision as JSON on stdout instead of the summary lines\n(decision.md is written all the same)' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

export interface RequirementDefault {
  /** Dotted, e.g. `latency.verifyP99`. */
  field: string;
  /** As a requirements file would say it: `50ms`, `null`, `[single, sentinel, cluster]`; `-` when the field has no default. */
  text: string;
  /** What an enum field accepts. */
  choices?: readonly string[];
}

/** Every requirements field with its schema default, in the schema's order. */
export function requirementDefaults(): RequirementDefault[] {
  const defaults = defaultsOf(requirementsSchema.parse({}));
  const entry = (field: string, schema: Parameters<typeof isTransformed>[0]): RequirementDefault => {
    const value = defaults(field);
    const text =
      value === undefined
        ? '-'
        : value === null
          ? 'null'
          : Array.isArray(value)
            ? `[${value.join(', ')}]`
            : isTransformed(schema)
              ? durationText(value as number, { days: true })
              : String(value);
    const choices = choicesOf(schema);
    return { field, text, ...(choices && { choices }) };
  };
  return fieldsOfSchema(requirementsSchema).flatMap(([section, schema]) => {
    const fields = fieldsOfSchema(schema);
    return fields.length === 0 ? [entry(section, schema)] : fields.map(([name, field]) => entry(`${section}.${name}`, field));
  });
}

const LINE_WIDTH = 100;

/** `section: { field: default, ... }`, one section a line (wrapped), then what the enum fields accept. */
function requirementsBlock(): string {
  const all = requirementDefaults();
  const sections = [...new Set(all.map((r) => r.field.split('.')[0]!))];
  const width = Math.max(...sections.map((s) => s.length)) + 2;
  const lines: string[] = [];
  for (const section of sections) {
    const head = `  ${`${section}:`.padEnd(width)}`;
    const fields = all.filter((r) => r.field === section || r.field.startsWith(`${section}.`));
    if (fields.length === 1 && fields[0]!.field === section) {
      lines.push(`${head}${fields[0]!.text}`);
      continue;
    }
    const items = fields.map((r, i) => `${r.field.slice(section.length + 1)}: ${r.text}${i < fields.length - 1 ? ',' : ' }'}`);
    let line = `${head}{ ${items[0]}`;
    for (const item of items.slice(1)) {
      if (line.length + 1 + item.length > LINE_WIDTH) {
        lines.push(line);
        line = `${' '.repeat(head.length + 2)}${item}`;
      } else line += ` ${item}`;
    }
    lines.push(line);
  }
  const choices = all.filter((r) => r.choices).map((r) => `${r.field} ${r.choices!.join(' | ')}`);
  return `Requirements (every field optional, shown with its default; see the README "Decide" section):\n${lines.join('\n')}\n  choices: ${choices.join('; ')}`;
}

export const DECIDE_HELP = `Usage: tokenbench decide --requirements <req.yaml> [--result <result.json> ...] [options]

Turns what you need (revocation, latency, scale, behaviour when Redis fails) into a recommended
scheme, backed by measurements: pure JWT, blacklist, blacklist + WAIT, compact blacklist,
whitelist (+ WAIT) or double-token, on the Redis topologies you can run. Writes a decision record
(context, options x requirements with the measured figure and met / not met, decision, cost model,
consequences) to <out>/decision.md.

With --result, it decides from those results alone. Without, it runs what it needs first: every
scheme your requirements do not rule out by design, on every topology they allow, with the primary
killed on Sentinel and Cluster, plus a closed-loop run for per-node throughput. When acknowledged
revocations must not be lost, those schemes also run with the primary cut off by a partition past
failure detection, then healed (hung by a pause instead where the machine cannot cut links: Linux,
root and nft): kill -9 rarely loses a write, a partition does, so only such a run can show
durability. It says how many runs and about how long before it starts.

Per-node capacity comes only from a closed-loop run (the probe, or tokenbench run --mode closed):
an open-loop run reaches the rate it was asked for. Without one, node counts are "not measured".

${optionsBlock('Options:', DECIDE_FLAGS)}

${requirementsBlock()}
  revocation.within: mode bounded only, e.g. 5s. assumptions.redisOpsPerNode: an assumed
  per-primary throughput, marked as such in the record.

Examples:
  tokenbench decide --requirements examples/decide/internal-tool.yaml
  tokenbench decide --requirements examples/decide/shop-bans.yaml --duration 3s
  tokenbench decide --requirements examples/decide/bank-immediate.yaml --result results/<ts>/result.json
  tokenbench decide --requirements req.yaml --result a/result.json --result b/result.json --out docs/decision
  tokenbench decide --requirements req.yaml --result results/<ts>/result.json --json > decision.json

Exit codes: 0 a decision record was written (even when no option qualifies: it says so),
1 a run failed, 2 bad requirements (a field, or contradictory requirements), flags or result files.
`;

export const DECIDE_USAGE = { command: 'decide', flags: DECIDE_FLAGS, help: DECIDE_HELP } satisfies CommandUsage;
