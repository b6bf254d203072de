import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadRequirementsFile } from '../decide/requirements.ts';
import { loadScenarioFile } from '../harness/scenario.ts';
import { migrateToCurrent } from '../result/migrations.ts';
import { SCHEMA_VERSION } from '../result/schema.ts';
import { jsonSchemaFiles, SCHEMAS_DIR } from './json-schemas.ts';

const root = join(import.meta.dirname, '..');
const committed = (file: string) => readFileSync(join(root, SCHEMAS_DIR, file), 'utf8');
const filesIn = (dir: string, ext: RegExp) =>
  readdirSync(join(root, dir))
    .filter((f) => ext.test(f))
    .map((f) => `${dir}/${f}`);

/** Every committed example, with the schema its modeline must name. */
const EXAMPLES = [
  ...filesIn('scenarios', /\.ya?ml$/).map((file) => ({ file, schema: 'scenario.schema.json', load: loadScenarioFile })),
  ...filesIn('examples/decide', /\.ya?ml$/).map((file) => ({ file, schema: 'requirements.schema.json', load: loadRequirementsFile })),
];
const RESULT_FIXTURES = filesIn('reports/fixtures', /\.json$/);

// strict: an unknown keyword or a malformed schema fails compilation instead of being ignored;
// `type: [string, null]` is how zod writes a nullable field, valid draft-07.
const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
const validators = new Map<string, ValidateFunction>();
function validator(file: string): ValidateFunction {
  let validate = validators.get(file);
  if (!validate) {
    validate = ajv.compile(JSON.parse(committed(file)));
    validators.set(file, validate);
  }
  return validate;
}
const errorsOf = (validate: ValidateFunction, data: unknown) =>
  validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);

describe('JSON Schemas (schemas/)', () => {
  it('are the ones the zod schemas generate', () => {
    const generated = jsonSchemaFiles();
    expect([...generated.keys()].sort()).toEqual(
      readdirSync(join(root, SCHEMAS_DIR))
        .filter((f) => f.endsWith('.json'))
        .sort(),
    );
    for (const [file, text] of generated) {
      expect(committed(file) === text, `${SCHEMAS_DIR}/${file} is stale: run npm run schemas`).toBe(true);
    }
  });

  it.each(EXAMPLES)('$file names its schema on the first line, is valid against it, and loads', ({ file, schema, load }) => {
    const text = readFileSync(join(root, file), 'utf8');
    const path = relative(dirname(join(root, file)), join(root, SCHEMAS_DIR, schema));
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=${path}`);
    expect(errorsOf(validator(schema), parseYaml(text) ?? {})).toEqual([]);
    expect(() => load(join(root, file))).not.toThrow();
  });

  // The schema describes the current version; an older fixture is checked as tokenbench reads it, migrated.
  it.each(RESULT_FIXTURES)('%s (migrated to the current version) is valid against the result schema', (file) => {
    const migrated = migrateToCurrent(JSON.parse(readFileSync(join(root, file), 'utf8')), file, SCHEMA_VERSION);
    expect(errorsOf(validator('result.schema.json'), migrated)).toEqual([]);
  });

  it('reject what tokenbench rejects: unknown fields, malformed durations, unknown enum values', () => {
    const scenario = validator('scenario.schema.json');
    expect(errorsOf(scenario, { laod: { rate: 10 } })).not.toEqual([]);
    expect(errorsOf(scenario, { load: { duration: 'ten seconds' } })).not.toEqual([]);
    expect(errorsOf(scenario, { topology: { kind: 'sentinel', shards: 3 } })).not.toEqual([]);
    expect(errorsOf(scenario, { faults: [{ at: '2s', action: 'explode' }] })).not.toEqual([]);
    expect(
      errorsOf(scenario, {
        topology: { kind: 'cluster', shards: 3 },
        load: { duration: '3s', warmup: 500 },
        faults: [{ at: '1.5s', action: 'kill', target: 'primary', for: '1s' }],
      }),
    ).toEqual([]);
    const requirements = validator('requirements.schema.json');
    expect(errorsOf(requirements, { tokens: { accessTtl: '7d', refreshTtl: '30d' } })).toEqual([]);
    expect(errorsOf(requirements, { tokens: { accessTtl: '7 days' } })).not.toEqual([]);
    expect(errorsOf(requirements, { revocation: { mode: 'sometimes' } })).not.toEqual([]);
  });
});
