import { LOCAL_IMAGE } from '../topologies/container/docker.ts';
import { buildLocalImage, checkImageTag } from '../topologies/container/image.ts';
import { parseFlags } from './flags.ts';
import { UsageError } from './usage-error.ts';

export const IMAGE_HELP = `Usage: tokenbench image build [--tag ${LOCAL_IMAGE}] [--redis-server <path>] [--json]

Builds a runnable Redis image for the container backend from this machine's own redis-server,
without a registry: the binary, redis-cli, a shell and every shared library they load (found
with ldd) are packed into one layer and imported into the Docker engine (docker import). It
takes about a second. The image runs the host's Redis version; where a registry is reachable,
an official image (--image redis:7.4) does the same job.

Options:
  --tag <name:tag>          image name                                      [${LOCAL_IMAGE}]
  --redis-server <path>     the binary to pack; valkey-server works too     [redis-server on PATH]
  --json                    print { tag, redisVersion, files, bytes, ms }

Examples:
  tokenbench image build
  tokenbench topology up sentinel --backend container --image ${LOCAL_IMAGE}
  tokenbench run --scenario scenarios/default-suite.yaml --backend container --image ${LOCAL_IMAGE}
`;

const FLAGS = {
  tag: { type: 'string' },
  'redis-server': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function imageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FLAGS, 'image');
  if (values.help) {
    process.stdout.write(IMAGE_HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'build') throw new UsageError(`image: ${sub === undefined ? 'which subcommand?' : `unknown subcommand '${sub}';`} expected build (see: tokenbench image --help)`);
  if (rest.length > 0) throw new UsageError(`image build: unexpected argument '${rest[0]}'`);
  if (values.tag !== undefined) checkImageTag(values.tag);
  if (!values.json) process.stderr.write(`building ${values.tag ?? LOCAL_IMAGE} from ${values['redis-server'] ?? 'redis-server'}...\n`);
  const built = await buildLocalImage({ ...(values.tag !== undefined && { tag: values.tag }), ...(values['redis-server'] !== undefined && { redisServer: values['redis-server'] }) });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...built, files: built.files.length })}\n`);
    return 0;
  }
  process.stdout.write(
    `${built.tag}: Redis ${built.redisVersion}, ${built.files.length} files (${(built.bytes / 1e6).toFixed(1)} MB) in ${(built.ms / 1000).toFixed(1)} s\nuse it: --backend container --image ${built.tag}\n`,
  );
  return 0;
}
