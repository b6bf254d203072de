import { LOCAL_IMAGE } from '../topologies/container/docker.ts';
import { type CommandUsage, type FlagTable, HELP_FLAG, optionsBlock } from './flags.ts';

export const IMAGE_FLAGS = {
  tag: { type: 'string', value: '<name:tag>', default: LOCAL_IMAGE, help: 'image name' },
  'redis-server': { type: 'string', value: '<path>', default: 'redis-server', help: 'the binary to pack (PATH); valkey-server works too' },
  json: { type: 'boolean', help: 'print { tag, redisVersion, files, bytes, ms }' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

export const IMAGE_HELP = `Usage: tokenbench image build [--tag ${LOCAL_IMAGE}] [--redis-server <path>] [--json]

Builds a runnable Redis image for the container backend from this machine's own redis-server,
without a registry: the binary, redis-cli, a shell and every shared library they load (found
with ldd) are packed into one layer and imported into the Docker engine (docker import). It
takes about a second. The image runs the host's Redis version; where a registry is reachable,
an official image (--image redis:7.4) does the same job.

${optionsBlock('Options:', IMAGE_FLAGS)}

Examples:
  tokenbench image build
  tokenbench topology up sentinel --backend container --image ${LOCAL_IMAGE}
  tokenbench run --scenario scenarios/default-suite.yaml --backend container --image ${LOCAL_IMAGE}
`;

export const IMAGE_USAGE = { command: 'image', flags: IMAGE_FLAGS, help: IMAGE_HELP } satisfies CommandUsage;
