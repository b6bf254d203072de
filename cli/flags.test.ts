import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseDurationMs } from '../core/duration.ts';
import { DEFAULT_DECIDE_DURATION_MS } from '../decide/plan.ts';
import { normalizeRequirements, requirementsSchema } from '../decide/requirements.ts';
import { scenarioSchema } from '../harness/scenario.ts';
import { DEFAULT_THRESHOLDS, METRIC_IDS, parseThresholds } from '../reports/compare.ts';
import { clusterOptionsSchema, normalizeTopologyOptions, sentinelOptionsSchema, singleOptionsSchema, topologyOptionsSchema } from '../topologies/options.ts';
import { BACKEND_FLAGS, TOPOLOGY_DEFAULTS } from './backend-flags.ts';
import { COMPARE_FLAGS, COMPARE_USAGE } from './compare-flags.ts';
import { DECIDE_FLAGS, DECIDE_HELP, DECIDE_USAGE, requirementDefaults } from './decide-flags.ts';
import { DOCTOR_USAGE } from './doctor-flags.ts';
import {
  type CommandUsage,
  defaultsOf,
  durationText,
  type Flag,
  type FlagTable,
  fieldsAt,
  fieldsOf,
  flagForField,
  optionsBlock,
  schemaAt,
  shownDefault,
} from './flags.ts';
import { IMAGE_USAGE } from './image-flags.ts';
import { MERGE_USAGE } from './merge-flags.ts';
import { REPORT_USAGE } from './report-flags.ts';
import { scenarioFromFlags } from './run-command.ts';
import { RUN_DEFAULTS, RUN_FLAGS, RUN_USAGE } from './run-flags.ts';
import { topologyOptionsFromFlags } from './topology-command.ts';
import { TOPOLOGY_FLAGS, TOPOLOGY_USAGE } from './topology-flags.ts';

const USAGES: CommandUsage[] = [RUN_USAGE, TOPOLOGY_USAGE, DECIDE_USAGE, COMPARE_USAGE, MERGE_USAGE, REPORT_USAGE, IMAGE_USAGE, DOCTOR_USAGE];

/** The help lines that start a flag's row (`--sentinels` has two in topology: a count and addresses). */
function rowsOf(help: string, name: string, flag: Flag): string[] {
  const start = `  ${flag.short ? `-${flag.short}, ` : ''}--${name}`;
  return help.split('\n').filter((line) => line === start || line.startsWith(`${start} `));
}

/** The tables of a command, each with where its defaults come from (the backend flags: topology options). */
const TABLES: { command: string; flags: FlagTable; schema?: unknown; defaults?: (field: string) => unknown }[] = [
  { command: 'run', flags: RUN_FLAGS, schema: scenarioSchema, defaults: RUN_DEFAULTS },
  { command: 'run', flags: BACKEND_FLAGS, schema: topologyOptionsSchema, defaults: defaultsOf(TOPOLOGY_DEFAULTS) },
  { command: 'topology', flags: TOPOLOGY_FLAGS, schema: topologyOptionsSchema, defaults: defaultsOf(TOPOLOGY_DEFAULTS) },
  { command: 'topology', flags: BACKEND_FLAGS, schema: topologyOptionsSchema, defaults: defaultsOf(TOPOLOGY_DEFAULTS) },
  { command: 'decide', flags: DECIDE_FLAGS },
  ...USAGES.filter((u) => !['run', 'topology', 'decide'].includes(u.command)).map((u) => ({ command: u.command, flags: u.flags })),
];
const helpOf = (command: string) => USAGES.find((u) => u.command === command)!.help;

describe.each(USAGES.map((u) => [u.command, u] as const))('%s --help', (_, usage) => {
  it('lists every flag parseArgs accepts, in its options block', () => {
    for (const [name, flag] of Object.entries(usage.flags)) expect(rowsOf(usage.help, name, flag), `--${name}`).not.toHaveLength(0);
  });
});

describe.each(TABLES.map((t) => [`${t.command}: ${Object.keys(t.flags).slice(0, 2).join(', ')}...`, t] as const))('%s', (_, table) => {
  it('sets only fields its schema has', () => {
    for (const [name, flag] of Object.entries(table.flags)) {
      for (const field of [...fieldsOf(flag), ...Object.keys(flag.sets ?? {})]) expect(schemaAt(table.schema, field), `--${name}: ${field}`).toBeDefined();
    }
  });

  it('shows the schema default where there is one, never a typed one over it', () => {
    const help = helpOf(table.command);
    for (const [name, flag] of Object.entries(table.flags)) {
      const shown = shownDefault(flag, table.defaults);
      const rows = rowsOf(help, name, flag);
      if (shown !== undefined)
        expect(
          rows.some((row) => row.endsWith(`[${shown}]`)),
          `--${name} [${shown}]`,
        ).toBe(true);
      else
        expect(
          rows.some((row) => !row.endsWith(']')),
          `--${name} shows no default`,
        ).toBe(true);
      const fields = fieldsOf(flag);
      if (flag.default !== undefined && fields.length > 0)
        expect(
          fields.map((f) => table.defaults!(f)).filter((v) => v !== undefined),
          `--${name} types a default its field has`,
        ).toEqual([]);
    }
  });
});

describe('shown defaults, given back as flags, change nothing', () => {
  it('run', () => {
    const none = scenarioFromFlags({});
    for (const [name, flag] of Object.entries<Flag>(RUN_FLAGS)) {
      const shown = shownDefault(flag, RUN_DEFAULTS);
      // A declared default ([off], [results/<timestamp>]) says what happens without the flag; it is no value to give.
      if (shown === undefined || !flag.field || flag.default === shown) continue;
      expect(scenarioFromFlags({ [name]: flag.type === 'multiple' ? [shown] : shown }), `--${name} ${shown}`).toEqual(none);
    }
  });

  const KIND_SCHEMAS = { single: singleOptionsSchema, sentinel: sentinelOptionsSchema, cluster: clusterOptionsSchema };
  const kinds = Object.keys(KIND_SCHEMAS) as (keyof typeof KIND_SCHEMAS)[];

  it('topology', () => {
    for (const [name, flag] of Object.entries<Flag>(TOPOLOGY_FLAGS)) {
      const shown = shownDefault(flag, defaultsOf(TOPOLOGY_DEFAULTS));
      if (shown === undefined || flag.field === undefined) continue;
      // [sentinel 2, cluster 1]: each kind's own value.
      const byKind = typeof flag.field === 'string' ? undefined : Object.fromEntries(shown.split(', ').map((part) => part.split(' ')));
      for (const kind of kinds) {
        const field = typeof flag.field === 'string' ? flag.field : flag.field[kind];
        if (field === undefined || !schemaAt(KIND_SCHEMAS[kind], field)) continue;
        if (flag.default === shown) continue; // declared (quorum: majority): no value to give back
        const value = byKind ? byKind[kind]! : shown;
        expect(
          normalizeTopologyOptions(topologyOptionsFromFlags(kind, { [name]: flag.type === 'multiple' ? [value] : value })),
          `${kind} --${name} ${value}`,
        ).toEqual(normalizeTopologyOptions(topologyOptionsFromFlags(kind, {})));
      }
    }
  });

  it('the backend flags, as the fields they set', () => {
    for (const [name, flag] of Object.entries<Flag>(BACKEND_FLAGS)) {
      const shown = shownDefault(flag, defaultsOf(TOPOLOGY_DEFAULTS));
      if (shown === undefined || flag.default === shown) continue;
      const field = flag.field as string;
      for (const kind of kinds.filter((k) => schemaAt(KIND_SCHEMAS[k], field))) {
        expect(normalizeTopologyOptions({ kind, [field]: shown }), `${kind} --${name} ${shown}`).toEqual(normalizeTopologyOptions({ kind }));
      }
    }
  });

  it('decide: --duration, and every requirements field as a file would say it', () => {
    expect(parseDurationMs(shownDefault(DECIDE_FLAGS.duration)!, '--duration')).toBe(DEFAULT_DECIDE_DURATION_MS);
    const none = normalizeRequirements({});
    const listed = requirementDefaults();
    // The help once said 10ms / 15m / 5000 here.
    for (const text of ['verifyP99: 50ms', 'accessTtl: 30m', 'refreshTtl: 7d', 'peakVerifyRate: 1000']) expect(DECIDE_HELP).toContain(text);
    for (const { field, text } of listed) {
      expect(DECIDE_HELP, field).toMatch(new RegExp(`\\b${field.split('.').at(-1)}:\\s+${text.replace(/[[\]]/g, '\\$&')}[,\\s]`));
      expect(schemaAt(requirementsSchema, field), field).toBeDefined();
      if (text === '-') continue;
      const [section, name] = field.split('.');
      const input = name === undefined ? { [section!]: parseYaml(text) } : { [section!]: { [name]: parseYaml(text) } };
      expect(normalizeRequirements(input), `${field}: ${text}`).toEqual(none);
    }
  });

  it('compare: --max-regression is the thresholds compare applies without it, and help names every metric', () => {
    expect(parseThresholds(shownDefault(COMPARE_FLAGS['max-regression'])!)).toEqual(DEFAULT_THRESHOLDS);
    for (const metric of METRIC_IDS) expect(COMPARE_USAGE.help).toMatch(new RegExp(`\\b${metric}\\b`));
  });
});

describe('flag tables', () => {
  const FLAGS = {
    rate: { type: 'string', value: '<ops/s>', field: 'load.rate', help: 'arrival rate' },
    replicas: { type: 'string', value: '<n>', field: { sentinel: 'replicas', cluster: 'replicasPerShard' }, help: 'replicas\nper kind' },
    redis: { type: 'string', field: 'endpoints', help: 'one node' },
    cluster: { type: 'string', field: 'endpoints', help: 'seed nodes' },
    out: { type: 'string', value: '<dir>', default: 'results/<timestamp>', help: 'where it goes' },
    json: { type: 'boolean', help: 'JSON' },
    help: { type: 'boolean', short: 'h', help: '' },
  } as const satisfies FlagTable;

  it('render one aligned row per flag, defaults in brackets on the first line', () => {
    const defaults = defaultsOf({ load: { rate: 1000 }, replicas: 2, replicasPerShard: 1 });
    expect(optionsBlock('Options:', FLAGS, defaults)).toBe(
      [
        'Options:',
        '  --rate <ops/s>  arrival rate   [1000]',
        '  --replicas <n>  replicas       [sentinel 2, cluster 1]',
        '                  per kind',
        '  --redis         one node',
        '  --cluster       seed nodes',
        '  --out <dir>     where it goes  [results/<timestamp>]',
        '  --json          JSON',
        '  -h, --help',
      ].join('\n'),
    );
  });

  it('name the flags that set a field, and move their fields under a parent', () => {
    expect(flagForField(FLAGS)).toEqual({ 'load.rate': '--rate', replicas: '--replicas', replicasPerShard: '--replicas', endpoints: '--redis / --cluster' });
    expect(flagForField(fieldsAt('topology', FLAGS))).toMatchObject({ 'topology.endpoints': '--redis / --cluster', 'topology.replicasPerShard': '--replicas' });
  });

  it('say durations the way flags take them', () => {
    expect([10_000, 300, 1000, 1500, 120_000, 1_800_000].map((ms) => durationText(ms))).toEqual(['10s', '300ms', '1s', '1500ms', '2m', '30m']);
    expect(durationText(7 * 86_400_000, { days: true })).toBe('7d');
    expect(durationText(7 * 86_400_000)).toBe('168h');
  });
});

/**
 * What a module loads when it runs, followed through static imports (dynamic ones are the lazy
 * part); imports of types only are erased and do not count.
 */
function staticImports(entry: string): { packages: Set<string>; modules: Set<string> } {
  const root = resolve(import.meta.dirname, '..');
  const packages = new Set<string>();
  const modules = new Set<string>();
  const visit = (file: string) => {
    const rel = relative(root, file);
    if (modules.has(rel)) return;
    modules.add(rel);
    const text = readFileSync(file, 'utf8');
    for (const [, clause, spec] of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)([^'";]*?)\s*from\s*['"]([^'"]+)['"]/gm)) {
      const names = /\{([^}]*)\}/.exec(clause!)?.[1];
      if (names && !/\*|^\s*\w/.test(clause!) && names.split(',').every((n) => !n.trim() || n.trim().startsWith('type '))) continue;
      if (spec!.startsWith('.')) visit(join(dirname(file), spec!));
      else if (!spec!.startsWith('node:')) packages.add(spec!.startsWith('@') ? spec!.split('/').slice(0, 2).join('/') : spec!.split('/')[0]!);
    }
  };
  visit(resolve(root, entry));
  return { packages, modules };
}

/** What the scenario schema is made of besides its own file: threshold metrics and the shapes they read (definitions, no I/O). */
const SCENARIO_DEFINITIONS = new Set(['result/thresholds.ts', 'result/checks.ts', 'result/figures.ts']);

/** The fault kinds: the scenario asks them which topologies take which fault (data, no I/O). */
const isFaultKind = (m: string) => m.startsWith('harness/nemesis/') && m !== 'harness/nemesis/nemesis.ts';
/** The scenario checks of a run split across generators live with the rest of the shard arithmetic; it loads no package. */
const isShardCheck = (m: string) => m === 'harness/shard.ts';

describe('what --version and --help load', () => {
  it('tokenbench --version / --help: no package, none of the commands', () => {
    const { packages, modules } = staticImports('cli/main.ts');
    expect([...packages]).toEqual([]);
    expect([...modules].filter((m) => m.startsWith('cli/') && m !== 'cli/main.ts' && m !== 'cli/flags.ts' && m !== 'cli/usage-error.ts')).toEqual([]);
  });

  it.each(['run', 'topology', 'decide', 'compare', 'merge', 'report', 'image', 'doctor'])(
    '%s --help: its flags and the schemas of its defaults, nothing that runs',
    (command) => {
      const { packages, modules } = staticImports(`cli/${command}-flags.ts`);
      expect([...packages].filter((p) => p !== 'zod' && p !== 'yaml')).toEqual([]);
      expect(
        [...modules].filter(
          (m) =>
            m.startsWith('reports/') ||
            (m.startsWith('result/') && !SCENARIO_DEFINITIONS.has(m)) ||
            (m.startsWith('harness/') && m !== 'harness/scenario.ts' && !isFaultKind(m) && !isShardCheck(m)) ||
            /-command\.ts$|doctor\.ts$/.test(m),
        ),
      ).toEqual([]);
    },
  );
});
