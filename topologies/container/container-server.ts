import type { ContainerRuntimeClient } from 'testcontainers';
import { ServerStartError } from '../../core/errors.ts';
import { type Launched, ManagedServer, type ServerLauncher, type ServerSpec } from '../server.ts';
import { containerRuntime, ensureImage, firstLine, LABEL_NODE, loadTestcontainers, ownerLabels } from './docker.ts';
import { trackContainer, untrackContainer } from './registry.ts';

type Container = ReturnType<ContainerRuntimeClient['container']['getById']>;

export interface ContainerSettings {
  image: string;
  startupTimeoutMs: number;
}

/**
 * One redis-server (or sentinel) in its own container, on the host's network: it listens on
 * 127.0.0.1:<free port> exactly as a process would, so Sentinel and Cluster announce addresses
 * that work from the host without any address translation. Its dir is bind-mounted at the same
 * path inside, so configs that name their own dir work unchanged; it runs as our uid, so the files
 * it writes there are ours to remove.
 */
export class ContainerServer extends ManagedServer {
  readonly settings: ContainerSettings;
  #container: Container | undefined;

  constructor(spec: ServerSpec, settings: ContainerSettings) {
    super(spec);
    this.settings = settings;
  }

  override get containerId(): string | undefined {
    return this.#container?.id;
  }

  protected async launch(): Promise<Launched> {
    const client = await containerRuntime();
    if (!this.#container) {
      const { GenericContainer } = await loadTestcontainers();
      const { image } = this.settings;
      const dir = this.spec.dir;
      const command = [this.configPath, ...(this.spec.mode === 'sentinel' ? ['--sentinel'] : [])];
      try {
        const started = await new GenericContainer(image)
          .withNetworkMode('host')
          .withBindMounts([{ source: dir, target: dir, mode: 'rw' }])
          .withUser(`${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`)
          .withEntrypoint(['redis-server'])
          .withCommand(command)
          .withLabels({ ...ownerLabels(), [LABEL_NODE]: this.id })
          .withStartupTimeout(this.settings.startupTimeoutMs)
          .start();
        this.#container = client.container.getById(started.getId());
        trackContainer(started.getId());
      } catch (error) {
        throw new ServerStartError(this.id, `container from ${image} did not start: ${firstLine(error)}`, this.logTail());
      }
    } else {
      await this.#container.start();
    }
    const container = this.#container;
    const exited = container.wait().then(
      (r: { StatusCode?: number }) => (r.StatusCode === 137 ? 'killed by SIGKILL' : `exited with code ${r.StatusCode}`),
      (error: unknown) => `lost: ${firstLine(error)}`,
    );
    return { exited };
  }

  protected async killNow(): Promise<void> {
    // A paused container cannot be killed by the engine until it is unpaused.
    if (this.state === 'paused') await this.#container?.unpause().catch(() => {});
    await this.#container?.kill().catch(() => {});
  }

  protected async pauseNow(): Promise<void> {
    await this.#container?.pause();
  }

  protected async resumeNow(): Promise<void> {
    await this.#container?.unpause();
  }

  protected override async release(): Promise<void> {
    const container = this.#container;
    if (!container) return;
    this.#container = undefined;
    await container.remove({ force: true, v: true }).catch(() => {});
    untrackContainer(container.id);
  }
}

/** Servers in containers of `image`, one per node, host networking. Checks the engine and the image first. */
export async function containerLauncher(image: string, startupTimeoutMs: number): Promise<ServerLauncher> {
  await ensureImage(image);
  return {
    backend: 'container',
    describe: `image ${image}`,
    // Inside, stdout goes to the engine's log; the file keeps logTail() the same for both backends.
    configLines: ({ dir }) => [`logfile ${dir}/server.log`],
    create: (spec) => new ContainerServer(spec, { image, startupTimeoutMs }),
  };
}
