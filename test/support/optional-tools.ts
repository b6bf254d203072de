import { existsSync } from 'node:fs';
import { which } from '../../topologies/process/redis-binary.ts';

/** The browser the HTML report test drives: Debian's package puts it here. */
export const CHROMIUM = '/usr/bin/chromium';

interface OptionalTool {
  name: string;
  /** Which tests go without it; they say so themselves in a SKIPPED line. */
  skips: string;
  missing: () => Promise<boolean>;
}

/**
 * What the integration tests can do without: each one's absence skips some tests rather than
 * failing them. Redis is not here: without it the suite fails.
 */
const OPTIONAL_TOOLS: OptionalTool[] = [
  { name: `Chromium at ${CHROMIUM}`, skips: 'the headless-browser check of the HTML report', missing: async () => !existsSync(CHROMIUM) },
  {
    name: 'a Docker engine',
    skips: 'the container backend tests',
    // The engine as the container tests find it (testcontainers' lookup); building their image is theirs to do and to report.
    missing: async () => {
      const { containerRuntime } = await import('../../topologies/container/docker.ts');
      return containerRuntime().then(
        () => false,
        () => true,
      );
    },
  },
  { name: '`nft` from nftables', skips: 'the network-fault tests', missing: async () => !which('nft') },
  { name: 'valkey-server', skips: 'the Valkey topology tests and the servers matrix run', missing: async () => !which('valkey-server') },
];

/** One line naming what is missing and what that skips, or undefined when everything is here. */
export async function missingToolsLine(): Promise<string | undefined> {
  const absent = (await Promise.all(OPTIONAL_TOOLS.map(async (tool) => ((await tool.missing()) ? tool : undefined)))).filter((tool) => tool !== undefined);
  if (absent.length === 0) return undefined;
  return `not on this machine: ${absent.map((tool) => `${tool.name}, which skips ${tool.skips}`).join('; ')}`;
}
