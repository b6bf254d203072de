import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { InvalidOptionError, TokenbenchError } from '../../core/errors.ts';
import { resolveRedisServer, which } from '../process/redis-binary.ts';
import { containerRuntime, firstLine, imagePresent, LOCAL_IMAGE, loadTestcontainers } from './docker.ts';

export interface BuiltImage {
  tag: string;
  redisVersion: string;
  /** Files copied into the rootfs: the binaries and every shared library they load. */
  files: string[];
  bytes: number;
  ms: number;
}

export class ImageBuildError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_IMAGE_BUILD', message);
  }
}

/** `ldd` lines: `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` and `/lib64/ld-linux-x86-64.so.2 (0x...)`. */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match) paths.add(match[1]!);
  }
  return [...paths];
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await execa('ldd', [binary], { reject: false });
  if (result.exitCode !== 0) {
    // A static binary says "not a dynamic executable": nothing to copy.
    if (/not a dynamic executable/.test(`${result.stdout}${result.stderr}`)) return [];
    throw new ImageBuildError(
      `ldd ${binary} failed (${firstLine(result.stderr || result.stdout || result.message)}); tokenbench image build needs Linux and glibc's ldd`,
    );
  }
  return parseLdd(result.stdout);
}

export function checkImageTag(tag: string): string {
  if (!/^[a-z0-9][a-z0-9._/-]*(:[\w.-]+)?$/.test(tag)) throw new InvalidOptionError('--tag', `a lowercase image name such as ${LOCAL_IMAGE}`, tag);
  return tag;
}

/**
 * A runnable Redis image built offline from this machine's redis-server: the binary, redis-cli
 * when present, a shell, and the shared libraries they load, imported as one layer. Where a
 * registry is reachable, `redis:7.4` does the same job.
 */
export async function buildLocalImage(options: { tag?: string; redisServer?: string } = {}): Promise<BuiltImage> {
  const began = performance.now();
  const tag = checkImageTag(options.tag ?? LOCAL_IMAGE);
  if (process.platform !== 'linux')
    throw new ImageBuildError(`tokenbench image build copies Linux binaries into the image; on ${process.platform}, use --image redis:7.4`);
  const server = await resolveRedisServer(options.redisServer ?? 'redis-server');
  const client = await containerRuntime();
  const binaries = [server.path, which('redis-cli'), which('sh')].filter((p): p is string => p !== undefined).map((p) => realpathSync(p));
  const root = mkdtempSync(join(tmpdir(), 'tokenbench-image-'));
  try {
    const files = new Set<string>();
    for (const binary of binaries) {
      files.add(binary);
      for (const lib of await sharedLibraries(binary)) files.add(lib);
    }
    let bytes = 0;
    for (const file of files) {
      mkdirSync(join(root, dirname(file)), { recursive: true });
      copyFileSync(file, join(root, file));
      bytes += statSync(file).size;
    }
    // The image's PATH: redis-server and sh where a container expects them, whatever the host calls them.
    for (const [name, source] of [
      ['redis-server', server.path],
      ['redis-cli', which('redis-cli')],
      ['sh', which('sh')],
    ] as const) {
      if (!source) continue;
      mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
      copyFileSync(realpathSync(source), join(root, 'usr/local/bin', name));
    }
    mkdirSync(join(root, 'bin'), { recursive: true });
    if (which('sh')) copyFileSync(realpathSync(which('sh')!), join(root, 'bin/sh'));
    for (const dir of ['tmp', 'data']) {
      mkdirSync(join(root, dir), { recursive: true });
      chmodSync(join(root, dir), 0o1777);
    }
    const tar = spawn('tar', ['-C', root, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [repo, version] = tag.split(/:(?=[^/]*$)/);
    const stream = await client.container.dockerode.importImage(tar.stdout, {
      repo,
      tag: version ?? 'latest',
      changes: ['ENV PATH=/usr/local/bin:/usr/bin:/bin', 'WORKDIR /data', 'CMD ["redis-server"]', 'LABEL tokenbench.image=true'],
    });
    await new Promise<void>((resolve, reject) => {
      client.container.dockerode.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
    });
    // Prove it runs: the version the image reports must be the host's.
    const { GenericContainer } = await loadTestcontainers();
    const probe = await new GenericContainer(tag)
      .withEntrypoint(['redis-server'])
      .withCommand(['--version'])
      .withNetworkMode('none')
      .start()
      .catch((error: unknown) => {
        throw new ImageBuildError(`image ${tag} was imported but does not run: ${firstLine(error)}`);
      });
    await probe.stop({ timeout: 0 }).catch(() => {});
    return { tag, redisVersion: server.version, files: [...files], bytes, ms: performance.now() - began };
  } catch (error) {
    if (error instanceof TokenbenchError) throw error;
    throw new ImageBuildError(`image build failed: ${firstLine(error)}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * For tests and benchmarks: `image` ready to run, built from this machine's redis-server when it
 * is the local image and missing; any other missing image is an error naming `setting`.
 */
export async function ensureTestImage(image: string, setting: string): Promise<void> {
  if (await imagePresent(image)) return;
  if (image !== LOCAL_IMAGE) throw new ImageBuildError(`image ${image} (${setting}) is not present`);
  await buildLocalImage();
}
