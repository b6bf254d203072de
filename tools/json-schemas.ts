import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { requirementsSchema } from '../decide/requirements.ts';
import { scenarioSchema } from '../harness/scenario.ts';
import { resultSchema } from '../result/schema.ts';

/**
 * JSON Schemas of the files users write (scenarios, requirements: the input side, durations as
 * `10s` or milliseconds) and of the file tokenbench writes (results: the output side), generated
 * from the zod schemas so an editor with the YAML language server completes and checks the same
 * fields tokenbench reads. The zod schemas stay the one definition; these files are derived data.
 */

export const SCHEMAS_DIR = 'schemas';

interface Source {
  file: string;
  schema: z.ZodType;
  io: 'input' | 'output';
  from: string;
  title: string;
  description: string;
  /** Rules zod checks in refinements or code after parsing, which JSON Schema here does not state: the editor accepts them, tokenbench does not. */
  alsoChecked: string[];
}

const SOURCES: Source[] = [
  {
    file: 'scenario.schema.json',
    schema: scenarioSchema,
    io: 'input',
    from: 'harness/scenario.ts',
    title: 'tokenbench scenario',
    description: 'What to run, on what, under which load and faults (tokenbench run --scenario FILE). Every field has a default; an unknown field is an error.',
    alsoChecked: [
      'topology: endpoints required with and only with backend external; credentials and TLS only with external; image only with container; sentinel quorum at most sentinels',
      'workload.mix: weights not all zero',
      'faults: at within load.duration; failover not on single; target sentinel only on sentinel; kill and restart not on external',
    ],
  },
  {
    file: 'requirements.schema.json',
    schema: requirementsSchema,
    io: 'input',
    from: 'decide/requirements.ts',
    title: 'tokenbench requirements',
    description: 'What the team needs, for tokenbench decide --requirements FILE. Every field has a default; an unknown field is an error.',
    alsoChecked: [
      'durations above 0 (all but tokens.leeway)',
      'revocation.within required with and only with mode bounded',
      'latency.verifyP999 >= verifyP99; tokens.refreshTtl >= accessTtl; redis.topologies without repeats',
      'no contradictory requirements (see tokenbench decide)',
    ],
  },
  {
    file: 'result.schema.json',
    schema: resultSchema,
    io: 'output',
    from: 'result/schema.ts',
    title: 'tokenbench result file',
    description: 'The result of tokenbench run: the source of truth every report is rendered from.',
    alsoChecked: [],
  },
];

/** file name (inside schemas/) -> the JSON text to commit. */
export function jsonSchemaFiles(): Map<string, string> {
  return new Map(SOURCES.map((source) => [source.file, `${JSON.stringify(document(source), null, 2)}\n`]));
}

function document(source: Source): Record<string, unknown> {
  const { $schema, ...body } = z.toJSONSchema(source.schema, {
    target: 'draft-07', // what the YAML language server (and so VS Code's YAML extension) validates
    io: source.io,
    unrepresentable: ({ path, message }) => {
      // A transform on the output side or a custom type: fail here rather than emit `{}` silently.
      throw new Error(
        `${source.from} -> ${source.file}: ${message} at ${path.join('.') || '(root)'}; give it a JSON Schema with .meta() or handle it in tools/json-schemas.ts`,
      );
    },
    override: ({ zodSchema, jsonSchema }) => {
      if (source.io === 'input') restoreDefault(zodSchema, jsonSchema);
      dropSafeIntegerBounds(jsonSchema);
    },
  });
  const generated = `Generated from ${source.from} by npm run schemas; do not edit.`;
  const $comment = source.alsoChecked.length === 0 ? generated : `${generated} tokenbench also checks, beyond this schema: ${source.alsoChecked.join('; ')}.`;
  return canonical({ $schema, $comment, title: source.title, description: source.description, ...body }) as Record<string, unknown>;
}

/**
 * On the input side zod drops the default of a field that transforms, since the default is an
 * output value. A duration's default in milliseconds is also an input meaning the same, so it is
 * kept whenever parsing it gives it back unchanged.
 */
function restoreDefault(zodSchema: z.core.$ZodType, jsonSchema: z.core.JSONSchema.BaseSchema): void {
  if (!(zodSchema instanceof z.ZodDefault) || 'default' in jsonSchema) return;
  const value: unknown = zodSchema.def.defaultValue;
  const parsed = z.safeParse(zodSchema.def.innerType, value);
  if (parsed.success && isDeepStrictEqual(parsed.data, value)) jsonSchema.default = JSON.parse(JSON.stringify(value));
}

/** zod bounds every integer to the safe range: true, but noise in every hover. */
function dropSafeIntegerBounds(jsonSchema: z.core.JSONSchema.BaseSchema): void {
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}

const KEYWORD_ORDER = ['$schema', '$comment', 'title', 'description', 'type', 'const', 'enum', 'default'];
const LAST = ['properties', 'required', 'additionalProperties'];
// Keys under these are names (fields, definitions), not keywords: their order is the source's.
const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions']);
// Values under these are data, kept as written.
const DATA = new Set(['default', 'const', 'enum', 'examples', 'required']);

/**
 * Keywords in one fixed order, so the committed files do not change with zod's internal order;
 * field order stays the schema's, which is the order a user reads.
 */
function canonical(value: unknown, names = false): unknown {
  if (Array.isArray(value)) return value.map((v) => canonical(v));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (names) return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
  const rank = (k: string) =>
    KEYWORD_ORDER.includes(k) ? KEYWORD_ORDER.indexOf(k) : LAST.includes(k) ? KEYWORD_ORDER.length + 1 + LAST.indexOf(k) : KEYWORD_ORDER.length;
  entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, DATA.has(k) ? v : canonical(v, NAME_MAPS.has(k))]));
}

/** `npm run schemas`: rewrites the files that changed and says which. */
function main(): void {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dir = join(root, SCHEMAS_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of jsonSchemaFiles()) {
    const path = join(dir, file);
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === text) {
      console.log(`${SCHEMAS_DIR}/${file}: unchanged`);
      continue;
    }
    writeFileSync(path, text);
    console.log(`${SCHEMAS_DIR}/${file}: ${current === undefined ? 'written' : 'updated'}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
