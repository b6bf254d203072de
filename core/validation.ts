import type { z } from 'zod';
import { InvalidOptionError } from './errors.ts';
import { redactSecrets } from './secrets.ts';

/**
 * Parses with zod and turns the first issue into an InvalidOptionError naming the field,
 * what was expected and what was received. `label` maps a schema path to the name the user
 * typed (a CLI flag, a YAML path), so the message speaks the user's language.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, label: (path: readonly PropertyKey[]) => string = dottedPath): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw issueToError(issue, input, label);
}

export function dottedPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value: unknown = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

type Issue = z.core.$ZodIssue;

function issueToError(issue: Issue, input: unknown, label: (path: readonly PropertyKey[]) => string): InvalidOptionError {
  const atPath = issue.path.length > 0 ? valueAt(input, issue.path) : undefined;
  // Error lines end up in CI logs: a password in the value given is shown redacted.
  const field = issue.path.at(-1);
  const received = redactSecrets(atPath !== undefined ? atPath : 'input' in issue ? issue.input : undefined, typeof field === 'string' ? field : undefined);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const parent = valueAt(input, issue.path) as Record<string, unknown> | undefined;
      return new InvalidOptionError(label([...issue.path, key]), 'no such field (unknown option)', redactSecrets(parent?.[key], key));
    }
    case 'invalid_type':
      return new InvalidOptionError(label(issue.path), issue.message.startsWith('Invalid input') ? article(issue.expected) : issue.message, received);
    case 'too_small':
      return new InvalidOptionError(label(issue.path), bound(issue, '>'), received);
    case 'too_big':
      return new InvalidOptionError(label(issue.path), bound(issue, '<'), received);
    case 'invalid_value':
      return new InvalidOptionError(label(issue.path), `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, received);
    case 'invalid_union': {
      const discriminator = /^Invalid discriminator value\. Expected (.*)$/.exec(issue.message);
      return new InvalidOptionError(label(issue.path), discriminator ? `one of ${discriminator[1]!.replaceAll(' | ', ', ')}` : issue.message, received);
    }
    default:
      return new InvalidOptionError(label(issue.path), issue.message, received);
  }
}

function article(type: string): string {
  if (type === 'int') return 'an integer';
  if (type === 'object' || type === 'array') return `an ${type}`;
  return `a ${type}`;
}

function bound(issue: { origin: string; inclusive?: boolean; minimum?: unknown; maximum?: unknown; message: string }, dir: '<' | '>'): string {
  // Custom messages on the schema win: they say it better ("at least 3 shards").
  if (!issue.message.startsWith('Too ')) return issue.message;
  const limit = dir === '>' ? issue.minimum : issue.maximum;
  const op = `${dir}${issue.inclusive ? '=' : ''}`;
  if (issue.origin === 'string') return `a string of length ${op} ${String(limit)}`;
  if (issue.origin === 'array') return `a list of length ${op} ${String(limit)}`;
  return `a number ${op} ${String(limit)}`;
}
