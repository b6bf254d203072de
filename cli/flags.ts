import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidOptionError } from '../core/errors.ts';
import { UsageError } from './usage-error.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with its errors turned into one-line usage errors that point at --help. */
// The return type is spelled out: the declaration emit cannot name the one node:util infers.
export function parseFlags<O extends Options>(argv: string[], options: O, command: string): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/\. To specify a positional argument.*$/s, '').replace(/\s*\n\s*/g, ' ');
    throw new UsageError(`${command}: ${message} (see: tokenbench ${command} --help)`);
  }
}

export function intFlag(value: string | undefined, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidOptionError(flag, `an integer >= ${min}`, value);
  const n = Number(value);
  if (n < min) throw new InvalidOptionError(flag, `an integer >= ${min}`, value);
  return n;
}
