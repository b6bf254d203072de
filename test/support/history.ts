/** Test-only: small hand-made histories. */

import type { Checker, Op, RunInfo } from '../../harness/history.ts';
import type { Checks } from '../../result/checks.ts';

let nextId = 1;

type OpFields = Partial<Omit<Op, 'invokeMs' | 'completeMs'>>;

/**
 * An op running from `invokeMs` to `completeMs`. Defaults: subject alice, worker 0, phase steady,
 * type ok, intended = invoked.
 */
export function op(f: Op['f'], invokeMs: number, completeMs: number, fields: OpFields = {}): Op {
  return { id: nextId++, f, worker: 0, phase: 'steady', subject: 'alice', intendedMs: invokeMs, invokeMs, completeMs, type: 'ok', ...fields };
}

/** A token issued at issuedMs and living ttlMs. */
export function token(jti: string, issuedMs = 0, ttlMs = 60_000, fields: OpFields = {}): OpFields {
  return { jti, tokenIssuedMs: issuedMs, tokenExpiresMs: issuedMs + ttlMs, ...fields };
}

export const accept = (invokeMs: number, completeMs: number, tokenFields: OpFields, fields: OpFields = {}) =>
  op('verify', invokeMs, completeMs, { ...tokenFields, accepted: true, ...fields });

export const reject = (invokeMs: number, completeMs: number, tokenFields: OpFields, code: string, fields: OpFields = {}) =>
  op('verify', invokeMs, completeMs, { ...tokenFields, accepted: false, code, ...fields });

export const revoke = (invokeMs: number, completeMs: number, tokenFields: OpFields, fields: OpFields = {}) =>
  op('revoke', invokeMs, completeMs, { jti: tokenFields.jti, family: tokenFields.family, subject: tokenFields.subject ?? 'alice', ...fields });

export const revokeAll = (invokeMs: number, completeMs: number, subject = 'alice', fields: OpFields = {}) =>
  op('revokeAll', invokeMs, completeMs, { subject, ...fields });

export function runInfo(overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    strategy: 'blacklist',
    guarantee: 'immediate',
    failurePolicy: 'fail-closed',
    faults: [],
    events: [],
    finalPrimaryPorts: [],
    durationMs: 10_000,
    nodes: [],
    ...overrides,
  };
}

/** Folds the checker the way the harness does: in completion order. */
export function check<N extends keyof Checks>(factory: (run: RunInfo) => Checker<N>, ops: Op[], run: RunInfo = runInfo()): Checks[N] {
  const checker = factory(run);
  for (const o of [...ops].sort((a, b) => a.completeMs - b.completeMs)) checker.observe(o);
  return checker.result(run);
}
