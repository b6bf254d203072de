import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, firstStdoutLine, tokenbench } from '../cli/helpers.ts';
import { containerBackendUnavailable } from './docker-available.ts';
import { topologySuite } from './suite.ts';

const { image, why } = await containerBackendUnavailable();

async function containersOwnedBy(pid: number): Promise<string[]> {
  const { containerRuntime, LABEL_OWNER } = await import('../../topologies/container/docker.ts');
  const client = await containerRuntime();
  const list = await client.container.dockerode.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL_OWNER}=${pid}`] }) });
  return list.map((c) => c.Id);
}

/** Starts `topology up ... --json` and resolves with the child and its first stdout line. */
async function topologyUp(args: string[]) {
  const child = execa('node', [BIN, 'topology', 'up', ...args, '--backend', 'container', '--image', image, '--json'], {
    reject: false,
    env: { TOKENBENCH_NO_INSTALL: '1' },
  });
  const line = await firstStdoutLine(child);
  return { child, up: JSON.parse(line) as { backend: string; nodes: unknown[] } };
}

if (why) {
  console.warn(`SKIPPED: container backend tests: ${why}`);
  it.skip(`container backend (${why})`, () => {});
} else {
  topologySuite('container', (kind) => ({ kind, backend: 'container', image }));

  describe('container: no orphans', () => {
    it('SIGINT to `topology up --backend container` removes every container', async () => {
      const { child, up } = await topologyUp(['sentinel']);
      expect(up.backend).toBe('container');
      expect(await containersOwnedBy(child.pid!)).toHaveLength(6);
      child.kill('SIGINT');
      expect((await child).exitCode).toBe(0);
      expect(await containersOwnedBy(child.pid!)).toEqual([]);
    });

    it('after kill -9 of tokenbench, doctor names the containers and --clean removes them', async () => {
      const { child } = await topologyUp(['single']);
      const ids = await containersOwnedBy(child.pid!);
      expect(ids).toHaveLength(1);
      child.kill('SIGKILL');
      await child;
      const report = JSON.parse((await tokenbench(['doctor', '--json'])).stdout) as { leftovers: { containers: { id: string }[] } };
      expect(report.leftovers.containers.map((c) => c.id)).toEqual(expect.arrayContaining(ids));
      const cleaned = await tokenbench(['doctor', '--clean']);
      expect(cleaned.stdout).toContain(`removed container ${ids[0]!.slice(0, 12)}`);
      expect(await containersOwnedBy(child.pid!)).toEqual([]);
    });

    it('a missing image is one clear error that names the offline way out', async () => {
      const r = await tokenbench(['topology', 'up', 'single', '--backend', 'container', '--image', 'tokenbench/does-not-exist:1']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/image tokenbench\/does-not-exist:1 is not present and could not be pulled .*tokenbench image build/);
      expect(r.stderr.trim().split('\n')).toHaveLength(2); // "starting..." and the error
    });
  });
}
