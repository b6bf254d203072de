import { hostname } from 'node:os';
import { isAlive } from '../pids.ts';
import { containerRuntime, LABEL, LABEL_HOST, LABEL_NODE, LABEL_OWNER } from './docker.ts';

export interface LeftoverContainer {
  id: string;
  name: string;
  node: string;
  ownerPid: number;
  state: string;
}

/** Our containers (by label) whose owner process on this host is gone: a crashed or kill -9'd run. */
export async function findLeftoverContainers(): Promise<LeftoverContainer[]> {
  const client = await containerRuntime();
  const containers = await client.container.dockerode.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABEL}=true`, `${LABEL_HOST}=${hostname()}`] }),
  });
  return containers
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      node: c.Labels[LABEL_NODE] ?? '?',
      ownerPid: Number(c.Labels[LABEL_OWNER]),
      state: c.State,
    }))
    .filter((c) => Number.isInteger(c.ownerPid) && !isAlive(c.ownerPid));
}

export async function removeLeftoverContainers(leftovers: LeftoverContainer[]): Promise<void> {
  // Nothing to remove needs no engine: `doctor --clean` on a machine without Docker still cleans processes.
  if (leftovers.length === 0) return;
  const client = await containerRuntime();
  await Promise.all(
    leftovers.map((c) =>
      client.container
        .getById(c.id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
}
