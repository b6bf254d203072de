import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from './module.ts';
import { REJECT_CODES, type Strategy } from './types.ts';

/** What the pass found: failures stop a run; notes say what it could not check, and why. */
export interface ConformanceReport {
  failures: string[];
  notes: string[];
}

export interface ConformanceOptions {
  /** The subject the pass logs in as; its tokens stay out of the run's history. */
  subject?: string;
  /** A bounded guarantee: how long to retry verify after revoke at most (the bound, capped by this). */
  maxWaitMs?: number;
  /** Names the strategy may not take: a module named like one of ours would be read as ours by reports and decide. */
  reservedNames?: readonly string[];
}

/** Codes that say "revoked", the ones the revoked-accepted checker counts as a correct rejection. */
const REVOCATION_CODES = new Set(['ERR_REVOKED', 'ERR_NOT_ALLOWLISTED']);
const REJECT_CODE_SET = new Set<string>(REJECT_CODES);

/**
 * A short check of a strategy before it is measured: the contract the harness and its checkers
 * rely on (strategies/types.ts). issue -> verify accepted; revoke -> verify rejected as revoked
 * (within a bounded guarantee's bound; skipped for `none`); garbage tokens -> rejection verdicts;
 * verify never throws; guarantee, name and label well formed. Each failure is one line naming the
 * method, what it was given and what it returned. Never throws for the strategy's faults.
 */
export async function checkConformance(strategy: Strategy, options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const failures: string[] = [];
  const notes: string[] = [];
  const subject = options.subject ?? 'tokenbench-conformance';
  const maxWaitMs = options.maxWaitMs ?? 10_000;

  for (const field of ['name', 'label'] as const) {
    const value = (strategy as unknown as Record<string, unknown>)[field];
    if (typeof value !== 'string' || value.length === 0) failures.push(`${field} is ${show(value)}, expected a non-empty string`);
  }
  if (options.reservedNames?.includes(strategy.name))
    failures.push(`name is '${strategy.name}', a built-in strategy's: reports and decide would take the run for ours; give it a name of its own`);
  if (typeof strategy.engine !== 'string' || strategy.engine.length === 0)
    failures.push(`engine is ${show(strategy.engine)}, expected a non-empty string naming the JWT code it uses`);
  const guarantee = strategy.guarantee as unknown;
  const bound = guaranteeBound(guarantee);
  if (bound === undefined) failures.push(`guarantee is ${show(guarantee)}, expected 'none', 'immediate' or { boundedByMs: <positive number> }`);

  const issued = await call(() => strategy.issue(subject));
  if (!issued.ok) {
    failures.push(`issue(${show(subject)}) threw ${issued.error}`);
    return { failures, notes };
  }
  const tokens = issued.value as unknown as Record<string, unknown>;
  const issueProblem = issuedProblem(tokens, subject);
  if (issueProblem) {
    failures.push(`issue(${show(subject)}) returned ${show(issued.value)}: ${issueProblem}`);
    return { failures, notes };
  }
  const token = tokens.accessToken as string;

  const verify = async (given: string, what: string): Promise<Record<string, unknown> | undefined> => {
    const outcome = await call(() => strategy.verify(given));
    if (!outcome.ok) {
      failures.push(`verify(${what}) threw ${outcome.error}`);
      return undefined;
    }
    const problem = verdictProblem(outcome.value);
    if (problem) {
      failures.push(`verify(${what}) returned ${show(outcome.value)}: ${problem}`);
      return undefined;
    }
    return outcome.value as unknown as Record<string, unknown>;
  };

  const first = await verify(token, 'token from issue');
  if (first && first.ok !== true) failures.push(`verify(token from issue) returned ${show(first)}, expected it accepted ({ ok: true, ... })`);
  else if (first && (first.subject !== subject || first.jti !== tokens.jti))
    failures.push(
      `verify(token from issue) accepted it as ${show({ subject: first.subject, jti: first.jti })}, expected subject and jti as issue returned them`,
    );

  for (const [what, garbage] of garbageTokens(token)) {
    const verdict = await verify(garbage, what);
    if (verdict?.ok === true) failures.push(`verify(${what}) returned ${show(verdict)}, expected a rejection`);
  }

  const revoked = await call(() => strategy.revoke(token));
  if (!revoked.ok) failures.push(`revoke(token) threw ${revoked.error}`);
  else {
    const ack = revoked.value as unknown as Record<string, unknown>;
    if (!isRecord(ack) || typeof ack.ok !== 'boolean' || typeof ack.redisOps !== 'number')
      failures.push(`revoke(token) returned ${show(ack)}, expected an Ack ({ ok, redisOps, ... })`);
    else if (ack.ok === false && ack.indeterminate !== false)
      failures.push(`revoke(token) returned ${show(ack)}: an unknown outcome on a healthy topology (expected { ok: true } or a definite refusal)`);
    else if (ack.ok === false) notes.push(`revoke(token) refused it (${show(ack.code)}): revocation of a fresh token not checked`);
    else if (guarantee === 'none') notes.push("guarantee 'none': verify after revoke not checked (the strategy promises nothing)");
    else if (bound !== undefined) await checkRevoked(bound, ack);
  }
  return { failures, notes };

  async function checkRevoked(boundMs: number, ack: Record<string, unknown>): Promise<void> {
    const waitMs = Math.min(boundMs, maxWaitMs);
    const deadline = performance.now() + waitMs;
    for (;;) {
      const verdict = await verify(token, 'token after revoke');
      if (!verdict) return;
      if (verdict.ok === false) {
        if (!REVOCATION_CODES.has(verdict.code as string))
          failures.push(`verify(token after revoke) returned ${show(verdict)}, expected a revocation code (ERR_REVOKED or ERR_NOT_ALLOWLISTED)`);
        return;
      }
      if (performance.now() >= deadline) {
        if (waitMs < boundMs) {
          notes.push(`verify still accepted the revoked token after ${waitMs} ms; the guarantee allows ${boundMs} ms, not waited for`);
          return;
        }
        const within = boundMs === 0 ? '' : ` ${boundMs} ms later`;
        failures.push(`revoke(token) returned ${show(ack)} but verify afterwards${within} accepted it: ${show(verdict)}`);
        return;
      }
      await sleep(Math.max(5, Math.min(50, waitMs / 20)));
    }
  }
}

/** 0 for immediate, the bound for bounded, Infinity for none; undefined: not a Guarantee. */
function guaranteeBound(guarantee: unknown): number | undefined {
  if (guarantee === 'none') return Number.POSITIVE_INFINITY;
  if (guarantee === 'immediate') return 0;
  if (isRecord(guarantee) && Object.keys(guarantee).length === 1) {
    const ms = guarantee.boundedByMs;
    if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0) return ms;
  }
  return undefined;
}

function issuedProblem(tokens: Record<string, unknown>, subject: string): string | undefined {
  if (!isRecord(tokens) || typeof tokens.ok !== 'boolean') return 'expected an Issued ({ ok: true, accessToken, subject, jti, ... })';
  if (tokens.ok !== true) return 'a failure on a healthy topology';
  if (typeof tokens.accessToken !== 'string' || tokens.accessToken.length === 0) return 'accessToken is not a non-empty string';
  if (tokens.subject !== subject) return `subject is ${show(tokens.subject)}, expected the one given`;
  if (typeof tokens.jti !== 'string' || tokens.jti.length === 0) return 'jti is not a non-empty string';
  for (const field of ['issuedAtMs', 'accessExpiresAtMs', 'redisOps'] as const)
    if (typeof tokens[field] !== 'number' || !Number.isFinite(tokens[field])) return `${field} is not a finite number`;
  return undefined;
}

function verdictProblem(verdict: unknown): string | undefined {
  if (!isRecord(verdict) || typeof verdict.ok !== 'boolean')
    return 'expected a Verdict ({ ok: true, subject, jti, redisOps } or { ok: false, code, redisOps })';
  if (typeof verdict.redisOps !== 'number' || !Number.isFinite(verdict.redisOps)) return 'redisOps is not a finite number';
  if (verdict.ok === false && !REJECT_CODE_SET.has(verdict.code as string))
    return `code ${show(verdict.code)} is not a RejectCode (${REJECT_CODES.join(', ')})`;
  return undefined;
}

/** Tokens no verifier may accept, each with how a failure line names it. */
function garbageTokens(token: string): [string, string][] {
  const [header, payload] = token.split('.');
  let noneHeader = base64url({ alg: 'none', typ: 'JWT' });
  try {
    noneHeader = base64url({ ...JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')), alg: 'none' });
  } catch {
    // Not a JWT: the generic header is as good.
  }
  const noneToken = `${noneHeader}.${payload ?? base64url({ sub: 'x', jti: 'x' })}.`;
  const large = `${header}.${'A'.repeat(64 * 1024)}.${'A'.repeat(43)}`;
  return [
    ["garbage 'x.y.z'", 'x.y.z'],
    ['a 64 KiB token', large],
    ["the issued token's claims with alg none", noneToken],
  ];
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function call<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A value in a failure line: JSON, cut short (a 64 KiB token must not fill the terminal). */
function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
