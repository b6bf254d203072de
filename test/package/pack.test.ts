import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutCommit } from '../../core/version.ts';
import { TESTCONTAINERS_INSTALL } from '../../topologies/container/docker.ts';

/**
 * The package as a user gets it: `npm pack` (which builds first, through prepack), installed from
 * the tarball into a fresh project with none of our dev dependencies, then used with plain node,
 * a stock NodeNext tsc and the bin.
 */
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(PACKAGE_DIR, 'node_modules/typescript/bin/tsc');
const PACKAGE = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

// npm, run from `npm test`, hands its own settings down; local_prefix would point the inner npm back at this repository.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(config_local_prefix|package_|lifecycle_)/.test(name)));
const run = (file: string, args: string[], options: { cwd: string; reject?: boolean; env?: NodeJS.ProcessEnv }) =>
  execa(file, args, { env, extendEnv: false, ...options });

let work: string;
let project: string;
let tarballFiles: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tokenbench-pack-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: PACKAGE_DIR });
  const [tarball] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarballFiles = tarball!.files.map((f) => f.path);

  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' })}\n`);
  await run('npm', ['install', join(work, tarball!.filename), '--no-audit', '--no-fund'], { cwd: project });
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm package', () => {
  it('ships the built library, its bin and the examples; no sources, tests, fixtures, bench or CI', () => {
    for (const file of [
      'bin/tokenbench.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/harness/engine-worker.js',
      'dist/harness/verifier-worker.js',
      'dist/topologies/network/delay-holder.py',
      'dist/harness/timer-thread-worker.js',
      'dist/build-info.json',
      'scenarios/quick.yaml',
      'README.md',
    ]) {
      expect(tarballFiles).toContain(file);
    }
    const unwanted = tarballFiles.filter(
      (f) =>
        /(^|\/)(test|bench|fixtures|scripts|\.ci|__snapshots__)\//.test(f) || /\.test\.|tsbuildinfo/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    expect(unwanted).toEqual([]);
  });

  it('installs without the container backend or a TypeScript loader', () => {
    expect(existsSync(join(project, 'node_modules/tokenbench'))).toBe(true);
    expect(existsSync(join(project, 'node_modules/testcontainers'))).toBe(false);
    expect(existsSync(join(project, 'node_modules/tsx'))).toBe(false);
  });

  it('imports with plain node', async () => {
    const script = "import { startTopology, createStrategy } from 'tokenbench'; console.log(typeof startTopology, typeof createStrategy);";
    const r = await run('node', ['--input-type=module', '-e', script], { cwd: project });
    expect(r.stdout).toBe('function function');
  });

  it('type-checks under a stock NodeNext config, and its types are real (a wrong call is an error)', async () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { createStrategy, startTopology, TokenbenchError, type ErrorCode, type StartedTopology, type Strategy } from 'tokenbench';

export async function probe(): Promise<string> {
  const topology: StartedTopology = await startTopology({ kind: 'single' });
  const strategy: Strategy = await createStrategy({ name: 'blacklist' }, { redis: topology.client() });
  await topology.stop();
  // @ts-expect-error not a topology kind
  await startTopology({ kind: 'ring' });
  // @ts-expect-error not an error code tokenbench raises
  const unknown: ErrorCode = 'ERR_X';
  const code: ErrorCode = 'ERR_REDIS_UNAVAILABLE';
  return \`\${strategy.name} \${TokenbenchError.name} \${code} \${unknown}\`;
}
`,
    );
    // Our types mention Buffer and AsyncDisposable, as ioredis's do: a Node.js project has @types/node, here borrowed from ours.
    const compilerOptions = {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      typeRoots: [join(PACKAGE_DIR, 'node_modules/@types')],
      types: ['node'],
    };
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify({ compilerOptions, files: ['consumer.ts'] })}\n`);
    const r = await run('node', [TSC, '-p', '.'], { cwd: project, reject: false });
    expect(r.stdout).toBe('');
    expect(r.exitCode).toBe(0);
  });

  it('declares its imports with .js specifiers, the files it ships', () => {
    const dist = join(project, 'node_modules/tokenbench/dist');
    const tsSpecifiers = readdirSync(dist, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.d.ts'))
      .flatMap((f) => [...readFileSync(join(dist, f), 'utf8').matchAll(/['"](\.{1,2}\/[^'"]+\.ts)['"]/g)].map((m) => `${f}: ${m[1]}`));
    expect(tsSpecifiers).toEqual([]);
  });

  it('npx tokenbench --version prints the package version', async () => {
    const r = await run('npx', ['--no', '--', 'tokenbench', '--version'], { cwd: project });
    expect(r.stdout).toBe(PACKAGE.version);
  });

  it('a run with worker threads works, and records the commit tokenbench was built from, not the project around it', async () => {
    await run('git', ['init', '-q'], { cwd: project });
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'consumer'], { cwd: project });
    const consumerHead = (await run('git', ['rev-parse', 'HEAD'], { cwd: project })).stdout;
    const out = join(work, 'run');
    await run('npx', ['--no', '--', 'tokenbench', 'run', '--quick', '--set', 'load.workers=2', '--out', out], {
      cwd: project,
      env: { ...env, TOKENBENCH_NO_INSTALL: '1' },
    });
    expect(readdirSync(out).filter((f) => f.startsWith('history-')).length).toBeGreaterThanOrEqual(2);
    const result = readFileSync(join(out, 'result.json'), 'utf8');
    expect(result).not.toContain(consumerHead);
    const built = checkoutCommit(PACKAGE_DIR);
    if (built) expect(result).toContain(built);
  });

  // The README promises its library examples run as written on the Node versions in `engines`.
  it.each(readmeExamples())(
    'README example %#, from "%s", runs with plain node against the installed package',
    async (_section, code) => {
      const file = join(project, `readme-example-${Math.random().toString(36).slice(2)}.mjs`);
      writeFileSync(file, code);
      // The examples write their results to a temp dir, as a user would: this one goes with `work`.
      const scratch = join(work, 'tmp');
      mkdirSync(scratch, { recursive: true });
      const r = await run('node', [file], { cwd: project, reject: false, env: { ...env, TMPDIR: scratch } });
      // No stack trace and no error, whatever progress it prints.
      expect(r.stderr.split('\n').filter((line) => /Error|^\s+at /.test(line))).toEqual([]);
      expect(r.stdout).not.toMatch(/\bfalse$/m);
      expect(r.exitCode).toBe(0);
    },
    90_000,
  );

  it('the install hint for testcontainers names the version we test with', () => {
    expect(TESTCONTAINERS_INSTALL).toBe(`npm install testcontainers@${PACKAGE.devDependencies.testcontainers}`);
  });
});

/** Every ```js block of the README, with the heading it sits under. */
function readmeExamples(): [string, string][] {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
  const examples: [string, string][] = [];
  let heading = '';
  for (const [, title, code] of readme.matchAll(/^#+ (.+)$|^```js\n([\s\S]*?)^```$/gm)) {
    if (title !== undefined) heading = title;
    else examples.push([heading, code!]);
  }
  return examples;
}
