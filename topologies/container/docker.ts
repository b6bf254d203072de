import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { ContainerRuntimeClient } from 'testcontainers';
import { DependencyMissingError, TokenbenchError } from '../../core/errors.ts';

/** Images from a registry for users who have one; offline, build one with `tokenbench image build`. */
export const DEFAULT_IMAGE = 'redis:7.4';
export const LOCAL_IMAGE = 'tokenbench/redis:local';

/** Every container we create carries these, so `tokenbench doctor` can find a crashed run's leftovers. */
export const LABEL = 'tokenbench';
export const LABEL_OWNER = 'tokenbench.owner';
export const LABEL_HOST = 'tokenbench.host';
export const LABEL_NODE = 'tokenbench.node';

export function ownerLabels(): Record<string, string> {
  return { [LABEL]: 'true', [LABEL_OWNER]: String(process.pid), [LABEL_HOST]: hostname() };
}

export class DockerUnavailableError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_DOCKER_UNAVAILABLE', message);
  }
}

export const DOCKER_HINT =
  'the container backend needs a running Docker engine reachable through DOCKER_HOST or /var/run/docker.sock (Debian: apt-get install -y docker.io && dockerd &); `tokenbench doctor` checks it';

/** testcontainers is an optional peer dependency: it brings about 160 packages (dockerode, ssh2, a native addon) that only the container backend uses. */
export const TESTCONTAINERS_INSTALL = 'npm install testcontainers@12.0.1';

/** The one place that loads testcontainers; a missing package is one line saying how to install it. */
export async function loadTestcontainers(): Promise<typeof import('testcontainers')> {
  try {
    return await import('testcontainers');
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    // Only testcontainers itself missing: a broken install of one of its own dependencies keeps its own message.
    if (code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes("'testcontainers'")) {
      throw new DependencyMissingError('the container backend', 'testcontainers', TESTCONTAINERS_INSTALL);
    }
    throw error;
  }
}

/** The installed testcontainers' version, found without loading it; undefined when it is not installed. */
export function installedTestcontainers(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require(require.resolve('testcontainers/package.json')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

let runtime: Promise<ContainerRuntimeClient> | undefined;

/**
 * testcontainers, loaded on first use: it costs half a second at import and the process backend
 * never needs it. Ryuk (its reaper container) is off unless the user turned it on: we remove our
 * own containers, and Ryuk's image cannot be pulled where no registry is reachable.
 */
export async function containerRuntime(): Promise<ContainerRuntimeClient> {
  runtime ??= (async () => {
    process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
    // Our containers share the host's network: the host to reach is always loopback, and asking
    // the engine for a bridge gateway fails where the daemon runs without a bridge.
    process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
    const { getContainerRuntimeClient } = await loadTestcontainers();
    try {
      return await getContainerRuntimeClient();
    } catch (error) {
      throw new DockerUnavailableError(`no Docker engine: ${firstLine(error)}; ${DOCKER_HINT}`);
    }
  })();
  runtime.catch(() => {
    runtime = undefined;
  });
  return runtime;
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

export async function imagePresent(image: string): Promise<boolean> {
  const client = await containerRuntime();
  const { ImageName } = await loadTestcontainers();
  return client.image.exists(ImageName.fromString(image));
}

/** The image must be there before the first container starts: a pull that hangs offline would look like a slow start. */
export async function ensureImage(image: string): Promise<void> {
  if (await imagePresent(image)) return;
  const client = await containerRuntime();
  const { ImageName } = await loadTestcontainers();
  const name = ImageName.fromString(image);
  try {
    await client.image.pull(name);
  } catch (error) {
    throw new DockerUnavailableError(
      `image ${image} is not present and could not be pulled (${firstLine(error)}); build one from this machine's redis-server with \`tokenbench image build\` and pass --image ${LOCAL_IMAGE}`,
    );
  }
}
