/** Base of every error tokenbench raises on purpose. Callers switch on `code`, never on message text. */
export class TokenbenchError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
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
