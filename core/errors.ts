/**
 * Every error code tokenbench raises on purpose, with the exit code the CLI leaves with for it:
 * 2 for input the user can fix (a flag, a scenario, requirements or result file), 1 for a failure
 * at run time. The one place exit codes are decided (see EXIT_CODES for the rest).
 */
export const ERROR_EXIT_CODES = {
  ERR_USAGE: 2,
  ERR_INVALID_OPTION: 2,
  ERR_SCENARIO_FILE: 2,
  ERR_REQUIREMENTS_FILE: 2,
  ERR_REQUIREMENTS_CONTRADICTION: 2,
  ERR_RESULT_FILE: 2,
  ERR_HISTORY_FILE: 2,
  ERR_INCOMPATIBLE_RESULTS: 2,
  ERR_SECRET_MISSING: 2,
  ERR_REDIS_UNAVAILABLE: 1,
  ERR_SERVER_START: 1,
  ERR_WAIT_TIMEOUT: 1,
  ERR_FAULT: 1,
  ERR_EXTERNAL_UNREACHABLE: 1,
  ERR_EXISTING_DATA: 1,
  ERR_DOCKER_UNAVAILABLE: 1,
  ERR_IMAGE_BUILD: 1,
  ERR_DEPENDENCY_MISSING: 1,
  ERR_NETWORK_UNSUPPORTED: 1,
  ERR_SERVICE: 1,
  ERR_STRATEGY_MODULE: 1,
  ERR_STRATEGY_CONFORMANCE: 1,
  ERR_LATE_START: 1,
} as const;

export type ErrorCode = keyof typeof ERROR_EXIT_CODES;

/**
 * How the CLI exits. 3: `run` measured everything and a threshold of the scenario was broken (CI
 * gates on it; a checker's verdict alone does not fail the run). 130 (128 + SIGINT) after Ctrl-C
 * or SIGTERM, whatever was written by then: the partial result is marked interrupted.
 */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, thresholdsBroken: 3, interrupted: 130 } as const;

/**
 * An AbortSignal's doing: `signal.throwIfAborted()` and aborted timers throw an AbortError, and an
 * error may carry one as its cause. Whether a failure is the interrupt or a failure of its own.
 */
export function isAbortError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (e.name === 'AbortError') return true;
  return false;
}

/** Base of every error tokenbench raises on purpose. Callers switch on `code`, never on message text. */
export class TokenbenchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The exit code for an error: its code's, or 1 for anything unexpected. */
export function exitCodeOf(error: unknown): number {
  return error instanceof TokenbenchError ? ERROR_EXIT_CODES[error.code] : EXIT_CODES.failure;
}

/** Input that cannot be read as a result file: a newer or unknown schemaVersion, a bad field, bad JSON. */
export class ResultFileError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_RESULT_FILE', message);
  }
}

/** A setting was wrong: names the field, what is allowed and what was given. Maps to exit code 2. */
export class InvalidOptionError extends TokenbenchError {
  readonly field: string;
  readonly expected: string;
  readonly received: unknown;
  constructor(field: string, expected: string, received: unknown) {
    super('ERR_INVALID_OPTION', `${field}: expected ${expected}, got ${describeValue(received)}`);
    this.field = field;
    this.expected = expected;
    this.received = received;
  }
}

/** redis-server (or valkey-server) cannot be used: missing or too old. */
export class RedisUnavailableError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_REDIS_UNAVAILABLE', message);
  }
}

/** A wait did not see what it waited for: says what, the limit, and the last thing seen. */
export class WaitTimeoutError extends TokenbenchError {
  constructor(what: string, timeoutMs: number, lastSeen: string) {
    super('ERR_WAIT_TIMEOUT', `${what} not reached after ${timeoutMs} ms; last seen: ${lastSeen}`);
  }
}

/** A server exited while we were starting it. Carries the tail of its log. */
export class ServerStartError extends TokenbenchError {
  readonly logTail: string;
  constructor(nodeId: string, detail: string, logTail: string) {
    super('ERR_SERVER_START', `${nodeId} did not start: ${detail}${logTail ? `\n--- last log lines ---\n${logTail}` : ''}`);
    this.logTail = logTail;
  }
}

/** The service `run --exec` starts exited early or never became ready. Carries the tail of its log. */
export class ServiceError extends TokenbenchError {
  readonly logTail: string;
  constructor(command: string, detail: string, logTail: string) {
    super('ERR_SERVICE', `service '${command}' ${detail}${logTail ? `\n--- last log lines ---\n${logTail}` : ''}`);
    this.logTail = logTail;
  }
}

export class FaultError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_FAULT', message);
  }
}

/** A feature needs a package tokenbench does not install by itself (an optional peer dependency). Says which and how to install it. */
export class DependencyMissingError extends TokenbenchError {
  readonly dependency: string;
  constructor(feature: string, dependency: string, install: string) {
    super('ERR_DEPENDENCY_MISSING', `${feature} needs ${dependency}: ${install}`);
    this.dependency = dependency;
  }
}

/** A strategy module could not be used: not found, failed to load, no createStrategy export, or the factory threw. */
export class StrategyModuleError extends TokenbenchError {
  readonly module: string;
  constructor(module: string, problem: string) {
    super('ERR_STRATEGY_MODULE', `strategy module ${module}: ${problem}`);
    this.module = module;
  }
}

/** A strategy module failed the conformance pass: the run does not start. One line per failure. */
export class StrategyConformanceError extends TokenbenchError {
  readonly failures: readonly string[];
  constructor(module: string, failures: readonly string[]) {
    super(
      'ERR_STRATEGY_CONFORMANCE',
      `strategy module ${module} failed the conformance pass (${failures.length} ${failures.length === 1 ? 'failure' : 'failures'}); the run did not start:\n${failures.map((f) => `  ${f}`).join('\n')}`,
    );
    this.failures = failures;
  }
}

/** Network faults cannot work here: says what is missing (an OS, a privilege, a tool, a kernel feature) and how to get it. */
export class NetworkUnsupportedError extends TokenbenchError {
  constructor(message: string) {
    super('ERR_NETWORK_UNSUPPORTED', message);
  }
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    return typeof value;
  }
}
