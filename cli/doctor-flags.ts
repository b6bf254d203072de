import { type CommandUsage, type FlagTable, HELP_FLAG, optionsBlock } from './flags.ts';

export const DOCTOR_FLAGS = {
  'redis-server': { type: 'string', value: '<path>', default: 'redis-server', help: 'server binary to check, looked up on PATH' },
  clean: { type: 'boolean', help: 'kill leftover servers of dead runs, remove their temp dirs and containers' },
  json: { type: 'boolean', help: 'print the findings as one JSON object' },
  help: HELP_FLAG,
} as const satisfies FlagTable;

export const DOCTOR_HELP = `Usage: tokenbench doctor [--redis-server <path>] [--clean] [--json]

Checks what tokenbench needs and what is installed: Node.js, redis-server (and its Sentinel
mode, tried for real), the other servers a servers matrix can run (redis-sentinel, valkey-server,
valkey-sentinel, with their versions), redis-cli, Docker. Says what is missing and the exact
commands that install it here (Valkey on Debian 12: from bookworm-backports). Also finds Redis processes, temp dirs and containers left behind by a crashed run.

Exit code: 0 when the process backend can run, 1 when it cannot.

${optionsBlock('Options:', DOCTOR_FLAGS)}

Examples:
  tokenbench doctor
  tokenbench doctor --redis-server /usr/local/bin/valkey-server
  tokenbench doctor --clean
`;

export const DOCTOR_USAGE = { command: 'doctor', flags: DOCTOR_FLAGS, help: DOCTOR_HELP } satisfies CommandUsage;
