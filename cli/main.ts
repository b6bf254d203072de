import { TOKENBENCH_VERSION } from '../core/version.ts';
import { exitCodeOf, TokenbenchError } from '../core/errors.ts';
import { compareCommand } from './compare-command.ts';
import { decideCommand } from './decide-command.ts';
import { doctorCommand } from './doctor.ts';
import { imageCommand } from './image-command.ts';
import { mergeCommand } from './merge-command.ts';
import { reportCommand } from './report-command.ts';
import { runCommand } from './run-command.ts';
import { topologyCommand } from './topology-command.ts';


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

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  doctor: doctorCommand,
  run: runCommand,
  report: reportCommand,
  compare: compareCommand,
  merge: mergeCommand,
  topology: topologyCommand,
  image: imageCommand,
  decide: decideCommand,
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
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`tokenbench: unknown command '${command}'; expected one of ${Object.keys(COMMANDS).join(', ')} (see: tokenbench --help)\n`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (error) {
    return reportError(error);
  }
}

/** One line for what the user can fix; a stack only when asked for (TOKENBENCH_DEBUG=1). */
export function reportError(error: unknown): number {
  const debug = process.env.TOKENBENCH_DEBUG === '1';
  if (error instanceof TokenbenchError) {
    process.stderr.write(`tokenbench: ${error.message}\n`);
    if (debug) process.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tokenbench: unexpected error: ${message}\n${debug ? `${(error as Error)?.stack}\n` : '(set TOKENBENCH_DEBUG=1 for the stack trace)\n'}`);
  return 1;
}
