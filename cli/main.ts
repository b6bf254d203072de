import { exitCodeOf, TokenbenchError } from '../core/errors.ts';
import { redactUrls } from '../core/secrets.ts';
import { TOKENBENCH_VERSION } from '../core/version.ts';
import { type CommandUsage, parseFlags } from './flags.ts';

export const MAIN_HELP = `tokenbench ${TOKENBENCH_VERSION}: benchmark and HA test harness for JWT revocation schemes on Redis

Usage: tokenbench <command> [options]

Commands:
  doctor                     what is installed, what is missing and how to install it
  run                        run strategies under open-loop load and faults; check the history
  report <result.json>       render a result again: Markdown, self-contained HTML, JSON
  compare <base> <current>   per-metric deltas and verdicts for CI; exit 1 on a regression
  merge <a.json> <b.json>... merge results of several load generators on one topology
  topology up <kind>         start single | sentinel | cluster Redis on loopback until Ctrl-C
  topology bench             time start-to-ready and primary failover for each topology
  image build                build a Redis image from this machine's redis-server (offline)
  decide --requirements <f>  from business requirements to a recommended scheme, with a decision record

Every command takes --help, with examples.

Examples:
  tokenbench doctor
  tokenbench run --topology sentinel --strategy blacklist,whitelist --rate 2000 --duration 30s --fault kill:primary@10s
  tokenbench report results/<timestamp>/result.json --format html --out report.html
  tokenbench compare baseline.json current.json --max-regression p99=10%,throughput=5% --markdown
  tokenbench topology up sentinel --json
  tokenbench topology bench --runs 3
  tokenbench image build && tokenbench topology up cluster --backend container --image tokenbench/redis:local
  tokenbench decide --requirements examples/decide/shop-bans.yaml --duration 3s
`;

interface Command {
  /** The flags and help text: all --help loads. */
  usage(): Promise<CommandUsage>;
  /** The command itself, with everything it needs, imported only when it runs. */
  load(): Promise<(argv: string[]) => Promise<number>>;
}

const COMMANDS: Record<string, Command> = {
  doctor: { usage: async () => (await import('./doctor-flags.ts')).DOCTOR_USAGE, load: async () => (await import('./doctor.ts')).doctorCommand },
  run: { usage: async () => (await import('./run-flags.ts')).RUN_USAGE, load: async () => (await import('./run-command.ts')).runCommand },
  report: { usage: async () => (await import('./report-flags.ts')).REPORT_USAGE, load: async () => (await import('./report-command.ts')).reportCommand },
  compare: { usage: async () => (await import('./compare-flags.ts')).COMPARE_USAGE, load: async () => (await import('./compare-command.ts')).compareCommand },
  merge: { usage: async () => (await import('./merge-flags.ts')).MERGE_USAGE, load: async () => (await import('./merge-command.ts')).mergeCommand },
  topology: {
    usage: async () => (await import('./topology-flags.ts')).TOPOLOGY_USAGE,
    load: async () => (await import('./topology-command.ts')).topologyCommand,
  },
  image: { usage: async () => (await import('./image-flags.ts')).IMAGE_USAGE, load: async () => (await import('./image-command.ts')).imageCommand },
  decide: { usage: async () => (await import('./decide-flags.ts')).DECIDE_USAGE, load: async () => (await import('./decide-command.ts')).decideCommand },
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${TOKENBENCH_VERSION}\n`);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`tokenbench: unknown command '${command}'; expected one of ${Object.keys(COMMANDS).join(', ')} (see: tokenbench --help)\n`);
    return 2;
  }
  try {
    // The same parse the command makes (same flags, same errors), so --help answers without loading the command.
    const usage = await entry.usage();
    if (parseFlags(rest, usage.flags, usage.command).values.help) {
      process.stdout.write(usage.help);
      return 0;
    }
    const run = await entry.load();
    return await run(rest);
  } catch (error) {
    return reportError(error);
  }
}

/** One line for what the user can fix; a stack only when asked for (TOKENBENCH_DEBUG=1). */
export function reportError(error: unknown): number {
  const debug = process.env.TOKENBENCH_DEBUG === '1';
  if (error instanceof TokenbenchError) {
    // A URL echoed back in an error (a bad --redis) keeps its password out of CI logs.
    process.stderr.write(`tokenbench: ${redactUrls(error.message)}\n`);
    if (debug) process.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
  const message = redactUrls(error instanceof Error ? error.message : String(error));
  process.stderr.write(
    `tokenbench: unexpected error: ${message}\n${debug ? `${(error as Error)?.stack}\n` : '(set TOKENBENCH_DEBUG=1 for the stack trace)\n'}`,
  );
  return 1;
}
