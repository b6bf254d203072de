import { LOCAL_IMAGE } from '../topologies/container/docker.ts';
import { buildLocalImage, checkImageTag } from '../topologies/container/image.ts';
import { parseFlags } from './flags.ts';
import { IMAGE_HELP, IMAGE_USAGE } from './image-flags.ts';
import { UsageError } from './usage-error.ts';

export { IMAGE_HELP } from './image-flags.ts';

export async function imageCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, IMAGE_USAGE.flags, IMAGE_USAGE.command);
  if (values.help) {
    process.stdout.write(IMAGE_HELP);
    return 0;
  }
  const [sub, ...rest] = positionals;
  if (sub !== 'build')
    throw new UsageError(`image: ${sub === undefined ? 'which subcommand?' : `unknown subcommand '${sub}';`} expected build (see: tokenbench image --help)`);
  if (rest.length > 0) throw new UsageError(`image build: unexpected argument '${rest[0]}'`);
  if (values.tag !== undefined) checkImageTag(values.tag);
  if (!values.json) process.stderr.write(`building ${values.tag ?? LOCAL_IMAGE} from ${values['redis-server'] ?? 'redis-server'}...\n`);
  const built = await buildLocalImage({
    ...(values.tag !== undefined && { tag: values.tag }),
    ...(values['redis-server'] !== undefined && { redisServer: values['redis-server'] }),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...built, files: built.files.length })}\n`);
    return 0;
  }
  process.stdout.write(
    `${built.tag}: Redis ${built.redisVersion}, ${built.files.length} files (${(built.bytes / 1e6).toFixed(1)} MB) in ${(built.ms / 1000).toFixed(1)} s\nuse it: --backend container --image ${built.tag}\n`,
  );
  return 0;
}
