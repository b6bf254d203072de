import { type ParseArgsConfig, parseArgs } from 'node:util';
import { InvalidOptionError } from '../core/errors.ts';
import { UsageError } from './usage-error.ts';

/** A string value, a switch, or a string value that may be given more than once. */
export type FlagType = 'string' | 'boolean' | 'multiple';

/**
 * One flag, declared once. The parseArgs options, the command's "Options:" block and the labels
 * of validation errors (`--rate (load.rate): expected ...`) are all derived from it.
 */
export interface Flag {
  readonly type: FlagType;
  /** One-letter alias, e.g. `h` for -h. */
  readonly short?: string;
  /**
   * The schema field its value sets, as a dotted path; an error on that field is reported as this
   * flag's, and its default is the one help shows. A flag that sets a different field per
   * topology kind names each by kind: `{ sentinel: 'replicas', cluster: 'replicasPerShard' }`.
   */
  readonly field?: string | Readonly<Record<string, string>>;
  /** A switch that sets fields to fixed values (--quick): the command applies these. */
  readonly sets?: Readonly<Record<string, unknown>>;
  /** What its value is, in help: `<ops/s>`. */
  readonly value?: string;
  /** One help line; a line break starts a continuation line. */
  readonly help: string;
  /** The default help shows, for a flag whose field has no schema default (or that sets no field). */
  readonly default?: string;
  /** How a schema default reads as this flag's value: 10000 (ms) as `10s`. */
  readonly show?: (value: unknown) => string;
}

export type FlagTable = Readonly<Record<string, Flag>>;

export type FlagValues<T extends FlagTable> = {
  -readonly [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K]['type'] extends 'multiple' ? string[] : string;
};

/** What a command's --help needs: its flags and its text. Cheap to import, so --help loads nothing else. */
export interface CommandUsage<T extends FlagTable = FlagTable> {
  readonly command: string;
  readonly flags: T;
  readonly help: string;
}

export const HELP_FLAG = { type: 'boolean', short: 'h', help: '' } as const satisfies Flag;

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

function parseArgsOptions(flags: FlagTable): ParseArgsOptions {
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [
      name,
      { type: flag.type === 'boolean' ? 'boolean' : 'string', ...(flag.type === 'multiple' && { multiple: true }), ...(flag.short && { short: flag.short }) },
    ]),
  ) as ParseArgsOptions;
}

/** node:util parseArgs over a flag table, its errors turned into one-line usage errors that point at --help. */
export function parseFlags<T extends FlagTable>(argv: string[], flags: T, command: string): { values: FlagValues<T>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: parseArgsOptions(flags), allowPositionals: true, strict: true });
    return { values: values as FlagValues<T>, positionals };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' ');
    throw new UsageError(`${command}: ${message} (see: tokenbench ${command} --help)`);
  }
}

export function intFlag(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidOptionError(flag, `an integer >= ${min}`, value);
  const n = Number(value);
  if (n < min) throw new InvalidOptionError(flag, `an integer >= ${min}`, value);
  return n;
}

export function fieldsOf(flag: Flag): string[] {
  if (flag.field === undefined) return [];
  return typeof flag.field === 'string' ? [flag.field] : Object.values(flag.field);
}

/** The same flags with their fields one level down: the backend flags set `backend`, in a scenario `topology.backend`. */
export function fieldsAt<T extends FlagTable>(prefix: string, flags: T): T {
  const at = (field: string) => `${prefix}.${field}`;
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [
      name,
      flag.field === undefined
        ? flag
        : {
            ...flag,
            field: typeof flag.field === 'string' ? at(flag.field) : Object.fromEntries(Object.entries(flag.field).map(([kind, field]) => [kind, at(field)])),
          },
    ]),
  ) as T;
}

/** Field path -> the flag(s) that set it, as the user typed them: `endpoints` -> `--redis / --sentinels / --cluster`. */
export function flagForField(...tables: FlagTable[]): Record<string, string> {
  const flags = new Map<string, string[]>();
  for (const table of tables) {
    for (const [name, flag] of Object.entries(table)) {
      for (const field of fieldsOf(flag)) {
        const names = flags.get(field) ?? [];
        if (!names.includes(`--${name}`)) names.push(`--${name}`);
        flags.set(field, names);
      }
    }
  }
  return Object.fromEntries([...flags].map(([field, names]) => [field, names.join(' / ')]));
}

/** A schema's defaults by dotted field path, e.g. from `scenarioSchema.parse({})`. */
export type FieldDefaults = (field: string) => unknown;

export function defaultsOf(defaults: unknown): FieldDefaults {
  return (field) =>
    field.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), defaults);
}

const noDefaults: FieldDefaults = () => undefined;

/** An empty list or map (no faults, no thresholds) is no default worth showing. */
const hasValue = (value: unknown) => value !== undefined && value !== null && !(typeof value === 'object' && Object.keys(value).length === 0);
const plain = (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value));

/** The default help shows in brackets: the field's schema default, else the declared one; none for a switch. */
export function shownDefault(flag: Flag, defaults: FieldDefaults = noDefaults): string | undefined {
  if (flag.type === 'boolean') return undefined;
  const show = flag.show ?? plain;
  if (typeof flag.field === 'string') {
    const value = defaults(flag.field);
    return hasValue(value) ? show(value) : flag.default;
  }
  if (flag.field !== undefined) {
    const byKind = Object.entries(flag.field).flatMap(([kind, field]) => (hasValue(defaults(field)) ? [`${kind} ${show(defaults(field))}`] : []));
    return byKind.length > 0 ? byKind.join(', ') : flag.default;
  }
  return flag.default;
}

/** Past this, a help line's default follows it instead of lining up with the others. */
const DEFAULT_COLUMN_MAX = 52;

/** A help block: the title, then one aligned row per flag, its default in brackets at the end of the first line. */
export function optionsBlock(title: string, flags: FlagTable, defaults: FieldDefaults = noDefaults): string {
  const rows = Object.entries(flags).map(([name, flag]) => ({
    usage: `${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.value ? ` ${flag.value}` : ''}`,
    lines: flag.help.split('\n'),
    shown: shownDefault(flag, defaults),
  }));
  const usageWidth = Math.max(...rows.map((r) => r.usage.length)) + 2;
  const helpWidth = Math.min(DEFAULT_COLUMN_MAX, Math.max(0, ...rows.filter((r) => r.shown !== undefined).map((r) => r.lines[0]!.length)));
  const out = [title];
  for (const row of rows) {
    row.lines.forEach((line, i) => {
      const text = i === 0 && row.shown !== undefined ? `${line.padEnd(helpWidth)}  [${row.shown}]` : line;
      out.push(`  ${(i === 0 ? row.usage : '').padEnd(usageWidth)}${text}`.trimEnd());
    });
  }
  return out.join('\n');
}

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
] as const;

/** Milliseconds as a flag or a file would say them: 10000 -> `10s`, 300 -> `300ms`; `d` only where days are accepted. */
export function durationText(ms: number, { days = false } = {}): string {
  for (const [unit, size] of UNITS) if ((days || unit !== 'd') && ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

export const showDuration = (value: unknown) => durationText(value as number);

/** The parts of a zod schema that help and its test look at; duck-typed, so this module loads no zod. */
interface SchemaNode {
  readonly type: string;
  readonly shape?: Readonly<Record<string, SchemaNode>>;
  readonly options?: readonly unknown[];
  readonly in?: SchemaNode;
  unwrap?(): SchemaNode;
}

const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly']);

function unwrapped(schema: SchemaNode): SchemaNode {
  let node = schema;
  while (WRAPPERS.has(node.type) && node.unwrap) node = node.unwrap();
  return node;
}

/** The object schemas a node holds fields in: itself, the input of a pipe (a transform after it), each member of a union. */
function objectsOf(schema: SchemaNode): SchemaNode[] {
  const node = unwrapped(schema);
  if (node.type === 'object') return [node];
  if (node.type === 'pipe' && node.in) return objectsOf(node.in);
  if (node.type === 'union') return (node.options as SchemaNode[]).flatMap(objectsOf);
  return [];
}

/**
 * The schema of a field, by dotted path, without its default / optional wrappers; undefined when
 * the schema has no such field. Through a union (the topology kinds), the first member that has it.
 */
export function schemaAt(schema: unknown, path: string): SchemaNode | undefined {
  let nodes = [schema as SchemaNode];
  let found: SchemaNode | undefined;
  for (const key of path.split('.')) {
    found = nodes
      .flatMap(objectsOf)
      .map((o) => o.shape?.[key])
      .find((s) => s !== undefined);
    if (!found) return undefined;
    nodes = [found];
  }
  return found && unwrapped(found);
}

/** The fields of an object schema (or of a pipe into one), in declaration order, without their default / optional wrappers. */
export function fieldsOfSchema(schema: unknown): [string, SchemaNode][] {
  return objectsOf(schema as SchemaNode).flatMap((o) => Object.entries(o.shape ?? {}).map(([name, field]): [string, SchemaNode] => [name, unwrapped(field)]));
}

/** An enum's values: what a field accepts, when it accepts a closed list. */
export function choicesOf(schema: SchemaNode | undefined): readonly string[] | undefined {
  return schema?.type === 'enum' ? (schema.options as string[]) : undefined;
}

/** A field that transforms its input on the way in: in tokenbench's schemas, a duration (`10s` -> 10000). */
export const isTransformed = (schema: SchemaNode | undefined) => schema?.type === 'pipe';
