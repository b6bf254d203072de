import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StrategyModuleError } from '../core/errors.ts';
import type { RedisClient } from './store.ts';
import type { Strategy, StrategyFactory } from './types.ts';

/** A scenario's or a thread's way to name a strategy module: a file (absolute once normalized) or a package, and its options. */
export interface ModuleStrategySpec {
  module: string;
  options?: unknown;
  /** The scenario's policy.failure, handed to the factory. */
  failurePolicy?: 'fail-closed' | 'fail-open';
  /** An external deployment's per-run prefix, the only keys the run may write. */
  keyPrefix?: string;
}

/**
 * A file, not a package: starts with `.` or `/` (or is absolute), or ends in .js / .mjs / .cjs.
 * Anything else is a package name (`@team/auth-bench`), reached through its own exports.
 */
export function isModuleFile(specifier: string): boolean {
  return specifier.startsWith('.') || isAbsolute(specifier) || /\.(m|c)?js$/.test(specifier);
}

/** A file against `baseDir` (the scenario file's directory, or the cwd); a package name as given. */
export function resolveModuleSpecifier(specifier: string, baseDir: string): string {
  return isModuleFile(specifier) ? resolve(baseDir, specifier) : specifier;
}

/**
 * Imports the module and returns its factory. A package name is resolved as Node resolves an
 * import from tokenbench's own files: installed in the project that has tokenbench installed.
 */
export async function loadStrategyFactory(specifier: string): Promise<StrategyFactory> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(isModuleFile(specifier) ? pathToFileURL(specifier).href : specifier)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(specifier))
      throw new StrategyModuleError(specifier, isModuleFile(specifier) ? 'no such file' : 'no such package installed beside tokenbench');
    throw new StrategyModuleError(specifier, `failed to load: ${describeError(error)}`);
  }
  const factory = loaded.createStrategy ?? (loaded.default as Record<string, unknown> | undefined)?.createStrategy;
  if (typeof factory !== 'function') {
    const exported = Object.keys(loaded).filter((k) => k !== 'default');
    throw new StrategyModuleError(
      specifier,
      `expected an export createStrategy(options, { redis, now }) returning a Strategy, found ${exported.length ? `exports ${exported.join(', ')}` : 'no named exports'}${typeof factory === 'undefined' ? '' : ` and createStrategy of type ${typeof factory}`}`,
    );
  }
  return factory as StrategyFactory;
}

/** Loads the module and calls its factory; anything that goes wrong is one StrategyModuleError line. */
export async function createModuleStrategy(spec: ModuleStrategySpec, context: { redis?: RedisClient; now?: () => number }): Promise<Strategy> {
  const factory = await loadStrategyFactory(spec.module);
  if (!context.redis) throw new StrategyModuleError(spec.module, 'needs the harness Redis client, and none was given');
  let strategy: unknown;
  try {
    strategy = await factory(spec.options, {
      redis: context.redis,
      now: context.now ?? Date.now,
      failurePolicy: spec.failurePolicy ?? 'fail-closed',
      ...(spec.keyPrefix !== undefined && { keyPrefix: spec.keyPrefix }),
    });
  } catch (error) {
    throw new StrategyModuleError(spec.module, `createStrategy threw ${describeError(error)}`);
  }
  if (typeof strategy !== 'object' || strategy === null)
    throw new StrategyModuleError(spec.module, `createStrategy returned ${strategy === null ? 'null' : typeof strategy}, expected a Strategy object`);
  const missing = ['issue', 'verify', 'revoke', 'revokeAll'].filter((m) => typeof (strategy as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) throw new StrategyModuleError(spec.module, `the Strategy createStrategy returned has no method ${missing.join(', ')}`);
  return strategy as Strategy;
}

/** `TypeError: boom`: the class and message, never the stack (TOKENBENCH_DEBUG shows that). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return `a non-error value: ${typeof error === 'string' ? JSON.stringify(error) : String(error)}`;
}
