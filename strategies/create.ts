import { InvalidOptionError } from '../core/errors.ts';
import type { ClientOptions, ClientTarget } from '../topologies/client.ts';
import { createCachingReader } from '../topologies/node-redis-client.ts';
import { BlacklistStrategy } from './blacklist.ts';
import { CachedBlacklistStrategy } from './cached-blacklist.ts';
import { DoubleTokenStrategy } from './double-token.ts';
import { type HttpStrategyInput, normalizeHttpTarget } from './http/options.ts';
import { HttpStrategy } from './http/strategy.ts';
import { TokenService } from './jwt/token-service.ts';
import { createModuleStrategy, type ModuleStrategySpec } from './module.ts';
import { normalizeStrategyOptions, type StrategyOptionsInput } from './options.ts';
import { PureStrategy } from './pure.ts';
import { ReplicatedBlacklistStrategy } from './replicated-blacklist.ts';
import type { RedisClient } from './store.ts';
import type { Strategy } from './types.ts';
import { WhitelistStrategy } from './whitelist.ts';

export interface StrategyContext {
  /** The ioredis client the strategy talks to (topology.client()). Not needed by `pure`. */
  redis?: RedisClient;
  /**
   * Where the topology's clients connect (topology.endpoints()), for a strategy that opens a client
   * of its own: cached-blacklist's node-redis reader. It is the strategy's to close (close()).
   */
  target?: ClientTarget;
  /** The scenario's client options, for that client: the same timeouts and source address as `redis`. */
  client?: ClientOptions;
  /** Injectable clock (Unix ms), so tests can freeze or move time. */
  now?: () => number;
}

/** Everything createStrategy builds from: plain data, so a worker thread can build the same. */
export type StrategyInput = StrategyOptionsInput | HttpStrategyInput;

/**
 * `await createStrategy({ name: 'blacklist', jwt: { engine: 'fast-jwt', alg: 'HS256' } }, { redis })`.
 * Options are checked first: a bad one names its field, what is allowed and what was given.
 */
export async function createStrategy(input: StrategyInput, context: StrategyContext = {}): Promise<Strategy> {
  if (input.name === 'http') {
    const { http, label, guarantee, timeoutMs } = input as HttpStrategyInput;
    const target = normalizeHttpTarget(http, (path) => ['http', ...path].map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.'));
    if (target.baseUrl.includes('{{port}}'))
      throw new InvalidOptionError('http.baseUrl', 'a URL with a port, or {{port}} with a service started by --exec that prints its port', target.baseUrl);
    return new HttpStrategy(target, {
      ...(label !== undefined && { label }),
      ...(guarantee !== undefined && { guarantee }),
      timeoutMs,
      ...(context.now && { now: context.now }),
    });
  }
  const options = normalizeStrategyOptions(input);
  const tokens = await TokenService.create(options.jwt, context.now);
  if (options.name === 'pure') return new PureStrategy(tokens);
  if (!context.redis) throw new InvalidOptionError('redis', `an ioredis client: the ${options.name} strategy keeps state in Redis`, undefined);
  switch (options.name) {
    case 'blacklist':
      return new BlacklistStrategy(tokens, context.redis, options);
    case 'whitelist':
      return new WhitelistStrategy(tokens, context.redis, options);
    case 'double-token':
      return new DoubleTokenStrategy(tokens, context.redis, options);
    case 'replicated-blacklist': {
      // The first load is part of creating it: verify would otherwise start out degraded.
      const strategy = new ReplicatedBlacklistStrategy(tokens, context.redis, options);
      await strategy.start();
      return strategy;
    }
    case 'cached-blacklist': {
      if (!context.target)
        throw new InvalidOptionError('target', "the topology's endpoints: cached-blacklist reads through a node-redis client of its own", undefined);
      const reader = await createCachingReader(context.target, context.client ?? {}, options.cachedBlacklist);
      return new CachedBlacklistStrategy(tokens, context.redis, options, reader);
    }
  }
}

/** What a thread is told to build, as plain data (worker threads get it by structured clone): one of ours by its options, or a strategy module. */
export type StrategySpec = StrategyInput | ModuleStrategySpec;

export function createStrategyFromSpec(spec: StrategySpec, context: StrategyContext = {}): Promise<Strategy> {
  return 'module' in spec ? createModuleStrategy(spec, context) : createStrategy(spec, context);
}
