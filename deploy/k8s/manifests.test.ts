import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseFlags } from '../../cli/flags.ts';
import { scenarioFromFlags } from '../../cli/run-command.ts';
import { RUN_USAGE } from '../../cli/run-flags.ts';
import { parseCiFormats } from '../../reports/outputs/formats.ts';

/**
 * No cluster here: the manifests are read as Kubernetes would read them, and held to what a run
 * split across generators needs (harness/shard.ts): an Indexed Job whose completion index becomes
 * --shard, one start time, the password from a Secret only, one image and names that match.
 */
const here = dirname(fileURLToPath(import.meta.url));
const read = (path: string) => readFileSync(join(here, path), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML, checked field by field below.
type Manifest = any;

/** What `kubectl apply -k <dir>` applies: the kustomization's resources, every document of each. */
function kustomization(dir: string): { kustomization: Manifest; resources: Manifest[] } {
  const kustomization = parseYaml(read(`${dir}/kustomization.yaml`));
  const resources = (kustomization.resources as string[]).flatMap((file) => parseAllDocuments(read(`${dir}/${file}`)).map((d) => d.toJS()));
  return { kustomization, resources };
}

const generators = kustomization('generators');
const merge = kustomization('merge');
const image = parseYaml(read('image/kustomization.yaml'));
const all = [...generators.resources, ...merge.resources];
const byKind = (kind: string) => all.filter((r) => r.kind === kind);
const named = (kind: string, name: string) => all.find((r) => r.kind === kind && r.metadata.name === name);
const podSpec = (r: Manifest) => (r.kind === 'Pod' ? r.spec : r.spec.template.spec);
const containers = all.flatMap((r) => (r.kind === 'Job' || r.kind === 'Pod' ? podSpec(r).containers : []));

const shardsJob = named('Job', 'tokenbench-shards');
const generator = podSpec(shardsJob).containers[0];
const args = generator.args as string[];
const flag = (name: string) => args[args.indexOf(name) + 1]!;
const envOf = (container: Manifest, name: string) => (container.env as Manifest[]).find((e) => e.name === name);

const scratch = mkdtempSync(join(tmpdir(), 'tokenbench-k8s-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('deploy/k8s: the generators', () => {
  it('an Indexed Job of N pods, N the same in completions, parallelism and --shard; no retry of a shard', () => {
    expect(shardsJob.spec.completionMode).toBe('Indexed');
    const shard = /^\$\(JOB_COMPLETION_INDEX\)\/(\d+)$/.exec(flag('--shard'));
    expect(shard, flag('--shard')).not.toBeNull();
    const n = Number(shard![1]);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(shardsJob.spec.completions).toBe(n);
    expect(shardsJob.spec.parallelism).toBe(n);
    expect(shardsJob.spec.backoffLimit).toBe(0);
    expect(podSpec(shardsJob).restartPolicy).toBe('Never');
  });

  it('the completion index reaches --shard, and every $(VAR) in the args is a variable the container has (Kubernetes leaves others as text)', () => {
    expect(envOf(generator, 'JOB_COMPLETION_INDEX').valueFrom.fieldRef.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
    const declared = new Set((generator.env as Manifest[]).map((e) => e.name));
    const referenced = args.flatMap((a) => [...a.matchAll(/\$\(([A-Z_]+)\)/g)].map((m) => m[1]!));
    expect(referenced).toContain('JOB_COMPLETION_INDEX');
    for (const name of referenced) expect(declared.has(name), name).toBe(true);
    expect(flag('--start-at')).toBe('$(START_AT)');
  });

  it('its command line is a valid split run of the scenario in the ConfigMap, on the external backend', () => {
    const mounts = Object.fromEntries((generator.volumeMounts as Manifest[]).map((m) => [m.mountPath, m.name]));
    const volumes = Object.fromEntries((podSpec(shardsJob).volumes as Manifest[]).map((v) => [v.name, v]));
    const scenarioPath = flag('--scenario');
    const scenarioVolume = volumes[mounts[dirname(scenarioPath)]];
    const configMap = named('ConfigMap', scenarioVolume.configMap.name);
    expect(configMap, scenarioVolume.configMap.name).toBeDefined();
    const file = join(scratch, 'scenario.yaml');
    writeFileSync(file, configMap.data[scenarioPath.split('/').at(-1)!]);
    const n = shardsJob.spec.completions;
    const startAt = new Date(Date.now() + 120_000).toISOString();
    const resolved = args.map((a) =>
      a === scenarioPath
        ? file
        : a
            .replaceAll('$(JOB_COMPLETION_INDEX)', String(n - 1))
            .replaceAll('$(START_AT)', startAt)
            .replaceAll('$(RUN_ID)', 'run-1'),
    );
    expect(resolved[0]).toBe('run');
    const { values, positionals } = parseFlags(resolved.slice(1), RUN_USAGE.flags, 'run');
    expect(positionals).toEqual([]);
    const scenario = scenarioFromFlags(values, {});
    expect(scenario.load.shard).toEqual({ index: n - 1, count: n });
    expect(scenario.load.startAt).toBe(startAt);
    expect(scenario.topology.backend).toBe('external');
    expect(Object.keys(scenario.thresholds).length).toBeGreaterThan(0);
    expect(() => parseCiFormats(values['ci-outputs']!)).not.toThrow();
    // Results go to the shared volume, one directory per run and shard.
    expect(flag('--out')).toBe('/results/$(RUN_ID)/shard-$(JOB_COMPLETION_INDEX)');
    expect(volumes[mounts['/results']].persistentVolumeClaim.claimName).toBe('tokenbench-results');
  });
});

describe('deploy/k8s: secrets, names and the image', () => {
  it('no password on any command line or in any manifest: the Redis password comes from a Secret, as TOKENBENCH_REDIS_PASSWORD', () => {
    const files = readdirSync(here, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ya?ml|sh)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const text = read(file);
      expect(text, file).not.toMatch(/--(sentinel-)?password(\s|=|$)/m);
      expect(text, file).not.toMatch(/rediss?:\/\/[^\s/@]*:[^\s/@]*@/);
    }
    expect(envOf(generator, 'TOKENBENCH_REDIS_PASSWORD').valueFrom.secretKeyRef).toMatchObject({ name: 'tokenbench-redis', key: 'password' });
    for (const container of containers)
      for (const env of container.env ?? []) if (/PASSWORD|AUTH|SECRET/.test(env.name)) expect(env.value, env.name).toBeUndefined();
    expect(byKind('Secret')).toEqual([]);
  });

  it('one image everywhere, named once (the image component both kustomizations use); the Dockerfile makes that CLI its entrypoint', () => {
    expect(image.kind).toBe('Component');
    expect(image.images).toHaveLength(1);
    for (const k of [generators.kustomization, merge.kustomization]) expect(k.components).toEqual(['../image']);
    expect(containers.length).toBeGreaterThanOrEqual(3);
    for (const container of containers) expect(container.image).toBe(image.images[0].name);
    expect(read('Dockerfile')).toMatch(/^ENTRYPOINT \["tokenbench"\]$/m);
  });

  it('the start ConfigMap run.sh makes is the one both Jobs read; the merge reads the directories the generators write, on the same volume', () => {
    const script = read('run.sh');
    const created = /kubectl create configmap (\S+) --from-literal=START_AT="\$start_at" --from-literal=RUN_ID="\$run_id"/.exec(script);
    expect(created).not.toBeNull();
    const mergeJob = named('Job', 'tokenbench-merge');
    const merger = podSpec(mergeJob).containers[0];
    for (const [container, key] of [
      [generator, 'START_AT'],
      [generator, 'RUN_ID'],
      [merger, 'RUN_ID'],
    ] as const)
      expect(envOf(container, key).valueFrom.configMapKeyRef, key).toEqual({ name: created![1], key });
    const command = (merger.args as string[]).join('\n');
    expect(command).toContain('dir="/results/$RUN_ID"');
    expect(command).toContain('tokenbench merge "$dir"/shard-*/result.json --out "$dir/merged.json"');
    expect(command).toMatch(/exit \$code$/m);
    expect(mergeJob.spec.backoffLimit).toBe(0);
    const claims = all.filter((r) => r.kind === 'Job' || r.kind === 'Pod').map((r) => podSpec(r).volumes.find((v: Manifest) => v.persistentVolumeClaim));
    for (const claim of claims) expect(claim.persistentVolumeClaim.claimName).toBe('tokenbench-results');
    const pvc = named('PersistentVolumeClaim', 'tokenbench-results');
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
    // run.sh applies both kustomizations and the Jobs it waits for are theirs.
    expect(script).toContain('kubectl apply -k "$here/generators"');
    expect(script).toContain('kubectl apply -k "$here/merge"');
    for (const name of ['tokenbench-shards', 'tokenbench-merge', 'tokenbench-results']) expect(script).toContain(name);
  });
});
