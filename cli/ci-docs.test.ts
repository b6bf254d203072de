import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseThresholds } from '../reports/compare.ts';
import { CI_FORMATS } from '../reports/outputs/formats.ts';
import { type CommandUsage, type FlagValues, parseFlags } from './flags.ts';
import { scenarioFromFlags } from './run-command.ts';
import type { RUN_USAGE } from './run-flags.ts';

/**
 * The CI examples of docs/ci/ are copied into other repositories and run there, where nobody sees
 * them break: this checks them as YAML, as the CI system's job shape, and by a dry run of every
 * tokenbench command they call, through the same flag tables (and the same validation) the CLI uses.
 */

const root = resolve(import.meta.dirname, '..');
const GITHUB = 'docs/ci/github-actions.yml';
const GITLAB = 'docs/ci/gitlab-ci.yml';
const CI_README = 'docs/ci/README.md';

/** What `run --ci-outputs all` writes into the run's --out dir, the files the two CI systems pick up. */
const CI_OUTPUT_FILES = { junit: CI_FORMATS.junit.file, openmetrics: CI_FORMATS.openmetrics.file, summary: CI_FORMATS.summary.file } as const;

const REDIS_PACKAGES = ['redis-server', 'redis-sentinel', 'redis-tools'];

type Node = Record<string, unknown>;

function loadYaml(path: string): Node {
  const document = parseDocument(readFileSync(join(root, path), 'utf8'));
  // Warnings too: a YAML 1.1-ism or a duplicate key is read differently by another parser.
  expect([...document.errors, ...document.warnings].map((e) => `${path}: ${e.message}`)).toEqual([]);
  const value = document.toJS() as unknown;
  expect(value, path).toBeTypeOf('object');
  return value as Node;
}

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);
const keysOutside = (node: Node, allowed: readonly string[]) => Object.keys(node).filter((key) => !allowed.includes(key));

// ---------------------------------------------------------------------------------------------
// The tokenbench commands in a shell script, as a shell would split them.

/** The index of the `)` that closes the `$(` at `start` (parentheses counted; quotes inside it are not parsed). */
function substitutionEnd(script: string, start: number): number {
  let depth = 0;
  for (let i = start + 1; i < script.length; i++) {
    if (script[i] === '(') depth++;
    if (script[i] === ')' && --depth === 0) return i;
  }
  return script.length - 1;
}

/**
 * A shell script as simple commands, each a list of words: split at newlines, `;`, `&`, `|` and
 * parentheses; quotes and backslashes removed as the shell removes them; line continuations
 * joined; comments and redirections (`> file`, `2>&1`) dropped; `$VAR` and `$(...)` kept as text.
 */
function simpleCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let redirect = false;
  const endWord = () => {
    if (inWord && !redirect) words.push(word);
    if (inWord) redirect = false;
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === '\\' && script[i + 1] === '\n') {
      i++;
    } else if (c === '\\') {
      word += script[++i] ?? '';
      inWord = true;
    } else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      word += script.slice(i + 1, end < 0 ? undefined : end);
      inWord = true;
      i = end < 0 ? script.length : end;
    } else if (c === '"') {
      inWord = true;
      for (i++; i < script.length && script[i] !== '"'; i++) {
        if (script[i] === '$' && script[i + 1] === '(') {
          const end = substitutionEnd(script, i);
          word += script.slice(i, end + 1);
          i = end;
          continue;
        }
        if (script[i] === '\\' && '"\\$`'.includes(script[i + 1] ?? '')) i++;
        word += script[i];
      }
    } else if (c === '$' && script[i + 1] === '(') {
      const end = substitutionEnd(script, i);
      word += script.slice(i, end + 1);
      inWord = true;
      i = end;
    } else if (c === '#' && !inWord) {
      while (i + 1 < script.length && script[i + 1] !== '\n') i++;
    } else if (c === '>' || c === '<') {
      // `2>`: the digits were the descriptor, not a word; `>&1` names one, not a file.
      if (/^\d+$/.test(word)) {
        word = '';
        inWord = false;
      }
      endWord();
      while (script[i + 1] === '>' || script[i + 1] === '&') i++;
      redirect = true;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if ('\n;&|()'.includes(c)) {
      endCommand();
      redirect = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

const SHELL_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', 'exec']);

/** The arguments after `tokenbench` (`npx tokenbench`, `node bin/tokenbench.js`), or undefined for another command. */
function tokenbenchArgs(words: string[]): string[] | undefined {
  let i = 0;
  while (i < words.length && (SHELL_KEYWORDS.has(words[i]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))) i++;
  const rest = words.slice(i);
  if (rest[0] === 'tokenbench') return rest.slice(1);
  if (rest[0] === 'npx' && rest[1] === 'tokenbench') return rest.slice(2);
  if (rest[0] === 'node' && rest[1] === 'bin/tokenbench.js') return rest.slice(2);
  return undefined;
}

interface Invocation {
  /** Where it is written, for the failure message: `docs/ci/github-actions.yml, step "Quick suite"`. */
  where: string;
  /** After `tokenbench`: the command, then its arguments. */
  argv: string[];
}

/** The scripts of the `$(...)` in a word: a tokenbench there runs too. */
function substitutions(word: string): string[] {
  const found: string[] = [];
  for (let start = word.indexOf('$('); start >= 0; start = word.indexOf('$(', substitutionEnd(word, start))) {
    found.push(word.slice(start + 2, substitutionEnd(word, start)));
  }
  return found;
}

function invocationsIn(where: string, script: string): Invocation[] {
  return simpleCommands(script).flatMap((words) => {
    const argv = tokenbenchArgs(words);
    return [...(argv ? [{ where, argv }] : []), ...words.flatMap(substitutions).flatMap((inner) => invocationsIn(where, inner))];
  });
}

// ---------------------------------------------------------------------------------------------
// A dry run: the command's own flag table, parse, and the validation it does before it starts anything.

/** A command's usage, read from its cli/<command>-flags.ts at run time: a flag renamed or removed there fails here. */
async function usageOf(command: string): Promise<CommandUsage | undefined> {
  const path = `./${command}-flags.ts`;
  if (!existsSync(join(import.meta.dirname, path))) return undefined;
  const module = (await import(path)) as Record<string, unknown>;
  return Object.values(module).find((value): value is CommandUsage => isNode(value) && value.command === command && isNode(value.flags));
}

type RunValues = FlagValues<typeof RUN_USAGE.flags>;

/** What each command checks of its arguments before it does anything: the same functions, called on the same values. */
const VALIDATE: Record<string, (values: Record<string, unknown>, positionals: string[]) => string | undefined> = {
  run: (values, positionals) => {
    if (positionals.length > 0) return `unexpected argument '${positionals[0]}'`;
    const scenario = scenarioFromFlags({ ...values, scenario: values.scenario && resolve(root, values.scenario as string) } as RunValues, {});
    // Without a threshold `run` exits 0 whatever it measured: the job would gate on nothing.
    if (Object.keys(scenario.thresholds).length === 0) return 'no threshold: run exits 0 whatever it measures (add --threshold or a thresholds: block)';
    return undefined;
  },
  compare: (values, positionals) => {
    if (positionals.length !== 2) return `expected <baseline.json> <current.json>, got ${positionals.length} arguments`;
    if (values['max-regression'] !== undefined) parseThresholds(values['max-regression'] as string);
    return undefined;
  },
  report: (_, positionals) => (positionals.length === 1 ? undefined : `expected one <result.json>, got ${positionals.length} arguments`),
};

async function dryRun({ where, argv }: Invocation): Promise<string[]> {
  const [command = '', ...args] = argv;
  const shown = `${where}: tokenbench ${argv.join(' ')}`;
  // tokenbench's own switches, not a command's (main.ts answers them before any command loads).
  if (['--help', '-h', '--version', '-v'].includes(command)) return [];
  const usage = await usageOf(command);
  if (!usage) return [`${shown}: no command '${command}' (no cli/${command}-flags.ts)`];
  // Every unknown flag named, not only the first one parseArgs stops at.
  const table = `${command}'s flags in cli/${command}-flags.ts`;
  const unknown = args
    .slice(0, args.includes('--') ? args.indexOf('--') : undefined)
    .filter((arg) => arg.startsWith('-') && arg !== '-')
    .flatMap((arg) => {
      if (arg.startsWith('--')) {
        const name = arg.slice(2).split('=')[0]!;
        return name in usage.flags ? [] : [`${shown}: --${name} is not one of ${table}`];
      }
      return [...arg.slice(1)].every((letter) => Object.values(usage.flags).some((flag) => flag.short === letter))
        ? []
        : [`${shown}: ${arg} is not one of ${table}`];
    });
  if (unknown.length > 0) return unknown;
  try {
    const { values, positionals } = parseFlags(args, usage.flags, usage.command);
    const problem = VALIDATE[command]?.(values, positionals);
    return problem ? [`${shown}: ${problem}`] : [];
  } catch (error) {
    return [`${shown}: ${(error as Error).message}`];
  }
}

/** The value of a flag in an invocation (`--out results/ci` or `--out=results/ci`). */
function flagValue(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.slice(argv[i]!.indexOf('=') + 1) : argv[i + 1];
}

/** The one `tokenbench run` of a file, and the dir its results go to: the paths the CI system picks up are under it. */
function theRun(invocations: Invocation[]): { run: Invocation; out: string } {
  const runs = invocations.filter((i) => i.argv[0] === 'run');
  expect(runs.map((r) => r.where)).toHaveLength(1);
  const out = flagValue(runs[0]!.argv, 'out');
  expect(out, `${runs[0]!.where}: --out (the CI system reads fixed paths under it)`).toBeDefined();
  return { run: runs[0]!, out: out!.replace(/\/$/, '') };
}

/** Words that name a file of this repository (`scenarios/quick.yaml`): it must exist, or the job fails on its first line. */
function repoPathsIn(script: string): string[] {
  return simpleCommands(script)
    .flat()
    .filter((word) => /^(scenarios|examples|schemas|docs)\/[^\s$]+$/.test(word));
}

/** bash's own parse (`bash -n`): an `if` without its `fi` fails here instead of on the runner. */
function shellSyntaxError(script: string): string {
  const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  if (check.error) throw check.error;
  return check.stderr.trim();
}

function installsRedis(script: string): boolean {
  return simpleCommands(script).some((words) => words.includes('apt-get') && words.includes('install') && REDIS_PACKAGES.every((p) => words.includes(p)));
}

// ---------------------------------------------------------------------------------------------

describe('the shell splitting the dry run relies on', () => {
  it('finds tokenbench where a shell runs it, with its words as the shell passes them', () => {
    const script = [
      'status=0 # a comment naming tokenbench run --nothing',
      'TOKENBENCH_STAGES=1 npx tokenbench run --out "results/ci" \\',
      "  --threshold 'violations=0' 2>&1 | tee log || status=$?",
      'if [ -f x ]; then npx tokenbench compare "$BASE" b.json --markdown > results/ci/compare.md; fi',
      'echo "$(npx tokenbench report "$OUT/result.json" --format md)" >> "$GITHUB_STEP_SUMMARY"',
    ].join('\n');
    expect(invocationsIn('here', script).flatMap((i) => i.argv)).toEqual([
      'run',
      '--out',
      'results/ci',
      '--threshold',
      'violations=0',
      'compare',
      '$BASE',
      'b.json',
      '--markdown',
      'report',
      '$OUT/result.json',
      '--format',
      'md',
    ]);
  });
});

describe(GITHUB, () => {
  const workflow = loadYaml(GITHUB);
  const on = workflow.on as Node;
  const jobs = workflow.jobs as Record<string, Node>;
  const steps = Object.values(jobs).flatMap((job) => (job.steps as Node[]).map((step, i) => ({ job, step, label: `step "${step.name ?? step.uses ?? i}"` })));
  const invocations = steps.flatMap(({ step, label }) => (typeof step.run === 'string' ? invocationsIn(`${GITHUB}, ${label}`, step.run) : []));
  const scripts = steps.flatMap(({ step }) => (typeof step.run === 'string' ? [step.run] : []));

  it('has the documented shape: triggers, jobs on a runner, steps with exactly one of uses / run', () => {
    expect(keysOutside(workflow, ['name', 'run-name', 'on', 'permissions', 'env', 'defaults', 'concurrency', 'jobs'])).toEqual([]);
    expect(on).toHaveProperty('pull_request');
    expect((on.push as Node).branches).toContain('main');
    expect(Object.keys(jobs).length).toBeGreaterThan(0);
    const jobKeys = ['name', 'runs-on', 'needs', 'if', 'permissions', 'environment', 'concurrency', 'outputs', 'env', 'defaults', 'steps', 'timeout-minutes'];
    for (const [id, job] of Object.entries(jobs)) {
      expect(keysOutside(job, [...jobKeys, 'strategy', 'continue-on-error', 'container', 'services']), `jobs.${id}`).toEqual([]);
      expect(job['runs-on'], `jobs.${id}.runs-on`).toBeTypeOf('string');
      expect(job.steps, `jobs.${id}.steps`).toBeInstanceOf(Array);
    }
    const stepKeys = ['id', 'if', 'name', 'uses', 'run', 'shell', 'with', 'env', 'continue-on-error', 'timeout-minutes', 'working-directory'];
    for (const { step, label } of steps) {
      expect(keysOutside(step, stepKeys), label).toEqual([]);
      expect(
        ['uses', 'run'].filter((key) => key in step),
        `${label}: exactly one of uses / run`,
      ).toHaveLength(1);
    }
  });

  it('pins every action to a version, and the documented ones to theirs', () => {
    const uses = steps.flatMap(({ step }) => (typeof step.uses === 'string' ? [step.uses] : []));
    for (const action of uses) expect(action, 'owner/repo@vN or @<commit>').toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    expect(uses).toEqual(expect.arrayContaining(['actions/checkout@v4', 'actions/setup-node@v4', 'actions/upload-artifact@v4']));
    const node = steps.find(({ step }) => step.uses === 'actions/setup-node@v4')!.step.with as Node;
    expect(String(node['node-version'])).toBe('20');
  });

  it('installs Redis from apt (with sudo: the runner is not root), then npm ci', () => {
    const install = scripts.find(installsRedis);
    expect(install, `apt-get install ${REDIS_PACKAGES.join(' ')}`).toBeDefined();
    expect(simpleCommands(install!).find((words) => words.includes('apt-get') && words.includes('install'))![0]).toBe('sudo');
    expect(scripts.some((script) => simpleCommands(script).some((words) => words.join(' ') === 'npm ci' || words.join(' ').startsWith('npm ci ')))).toBe(true);
  });

  it('has steps that are valid shell (bash -n)', () => {
    for (const { step, label } of steps) if (typeof step.run === 'string') expect(shellSyntaxError(step.run), label).toBe('');
  });

  it('calls tokenbench only with flags and values its commands accept', async () => {
    expect(invocations.map((i) => i.argv[0])).toEqual(expect.arrayContaining(['run', 'compare']));
    expect((await Promise.all(invocations.map(dryRun))).flat()).toEqual([]);
  });

  it('publishes the summary, the comparison, JUnit and the results even when the run failed', () => {
    const { run, out } = theRun(invocations);
    const runStep = steps.findIndex(({ label }) => run.where.endsWith(label));
    expect(steps[runStep]!.step, 'the run step must fail the job').not.toHaveProperty('continue-on-error');
    for (const { step, label } of steps.slice(runStep + 1)) expect(String(step.if), `${label}: if: always()`).toContain('always()');
    const later = steps.slice(runStep + 1).map(({ step }) => JSON.stringify(step));
    expect(
      later.some((s) => s.includes(`${out}/${CI_OUTPUT_FILES.summary}`) && s.includes('$GITHUB_STEP_SUMMARY')),
      'summary.md >> $GITHUB_STEP_SUMMARY',
    ).toBe(true);
    expect(
      later.some((s) => s.includes('tokenbench compare') && s.includes('--markdown') && s.includes('$GITHUB_STEP_SUMMARY')),
      'compare --markdown',
    ).toBe(true);
    expect(
      later.some((s) => s.includes(`${out}/${CI_OUTPUT_FILES.junit}`)),
      'junit.xml',
    ).toBe(true);
    const upload = steps.find(({ step }) => step.uses === 'actions/upload-artifact@v4')!.step.with as Node;
    expect(String(upload.path).replace(/\/$/, '')).toBe(out);
  });

  it('names only files this repository has', () => {
    for (const path of scripts.flatMap(repoPathsIn)) expect(existsSync(join(root, path)), path).toBe(true);
  });
});

const GITLAB_GLOBAL_KEYS = ['default', 'include', 'stages', 'variables', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script'];
const GITLAB_JOB_KEYS = [
  ...['after_script', 'allow_failure', 'artifacts', 'before_script', 'cache', 'coverage', 'dependencies', 'environment', 'extends', 'hooks', 'id_tokens'],
  ...['image', 'inherit', 'interruptible', 'needs', 'parallel', 'release', 'resource_group', 'retry', 'rules', 'script', 'secrets', 'services', 'stage'],
  ...['tags', 'timeout', 'trigger', 'variables', 'when'],
];
const GITLAB_ARTIFACT_KEYS = ['paths', 'exclude', 'expire_in', 'expose_as', 'name', 'public', 'access', 'reports', 'untracked', 'when'];
const GITLAB_REPORT_KEYS = [
  ...['accessibility', 'annotations', 'api_fuzzing', 'browser_performance', 'coverage_report', 'codequality', 'container_scanning', 'coverage_fuzzing'],
  ...['cyclonedx', 'dast', 'dependency_scanning', 'dotenv', 'junit', 'load_performance', 'metrics', 'requirements', 'sast', 'secret_detection', 'terraform'],
];

describe(GITLAB, () => {
  const pipeline = loadYaml(GITLAB);
  const jobs = Object.entries(pipeline).filter(([key]) => !GITLAB_GLOBAL_KEYS.includes(key) && !key.startsWith('.')) as [string, Node][];
  const lines = (job: Node, key: string) => (job[key] as string[] | undefined) ?? [];
  const invocations = jobs.flatMap(([id, job]) =>
    ['before_script', 'script', 'after_script'].flatMap((key) => lines(job, key).flatMap((line, i) => invocationsIn(`${GITLAB}, ${id}.${key}[${i}]`, line))),
  );
  const scripts = jobs.flatMap(([, job]) => [...lines(job, 'before_script'), ...lines(job, 'script')]);

  it('has the documented job keys: image, script lines, artifacts kept always with JUnit and metrics reports', () => {
    expect(jobs.map(([id]) => id)).toEqual(['tokenbench']);
    const [, job] = jobs[0]!;
    expect(keysOutside(job, GITLAB_JOB_KEYS)).toEqual([]);
    expect(job.image).toBe('node:20-bookworm');
    for (const key of ['before_script', 'script']) {
      expect(job[key], key).toBeInstanceOf(Array);
      for (const line of lines(job, key)) expect(line, `${key}: a line is a string`).toBeTypeOf('string');
    }
    const artifacts = job.artifacts as Node;
    expect(keysOutside(artifacts, GITLAB_ARTIFACT_KEYS)).toEqual([]);
    expect(keysOutside(artifacts.reports as Node, GITLAB_REPORT_KEYS)).toEqual([]);
    expect(artifacts.when, 'a failed job keeps its outputs').toBe('always');
    const { out } = theRun(invocations);
    expect(artifacts.reports).toEqual({ junit: `${out}/${CI_OUTPUT_FILES.junit}`, metrics: `${out}/${CI_OUTPUT_FILES.openmetrics}` });
    expect((artifacts.paths as string[]).map((p) => p.replace(/\/$/, ''))).toContain(out);
  });

  it('installs Redis from apt and runs npm ci', () => {
    expect(scripts.some(installsRedis), `apt-get install ${REDIS_PACKAGES.join(' ')}`).toBe(true);
    expect(scripts.some((script) => script.startsWith('npm ci'))).toBe(true);
  });

  it('calls tokenbench only with flags and values its commands accept', async () => {
    expect(invocations.map((i) => i.argv[0])).toEqual(expect.arrayContaining(['run', 'compare']));
    expect((await Promise.all(invocations.map(dryRun))).flat()).toEqual([]);
  });

  it('is valid shell as GitLab runs it, every line of before_script and script in one shell (bash -n)', () => {
    expect(shellSyntaxError(scripts.join('\n'))).toBe('');
  });

  it('fails the job at the end, with the status the run or the comparison left', () => {
    const script = lines(jobs[0]![1], 'script');
    expect(script.at(-1)).toBe('exit "$status"');
  });

  it('names only files this repository has', () => {
    for (const path of scripts.flatMap(repoPathsIn)) expect(existsSync(join(root, path)), path).toBe(true);
  });
});

describe('docs/ci/README.md and the README', () => {
  it('link only to files that exist', () => {
    for (const file of [CI_README, 'README.md']) {
      const text = readFileSync(join(root, file), 'utf8');
      const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!.split('#')[0]!).filter((link) => link && !/^[a-z]+:/.test(link));
      for (const link of links) expect(existsSync(resolve(dirname(join(root, file)), link)), `${file}: ${link}`).toBe(true);
    }
  });

  it('the README points at both examples and at the explanation', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const path of [GITHUB, GITLAB, CI_README]) expect(readme.includes(path), path).toBe(true);
  });
});
