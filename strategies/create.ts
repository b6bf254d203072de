import { InvalidOptionError } from '../core/errors.ts';
import { BlacklistStrategy } from './blacklist.ts';
import { DoubleTokenStrategy } from './double-token.ts';
import { TokenService } from './jwt/token-service.ts';
import { normalizeStrategyOptions, type StrategyOptionsInput } from './options.ts';
import { PureStrategy } from './pure.ts';
import type { RedisClient } from './store.ts';
import type { Strategy } from './types.ts';
import { WhitelistStrategy } from './whitelist.ts';

export interface StrategyContext {
  /** The ioredis client the strategy talks to (topology.client()). Not needed by `pure`. */
  redis?: RedisClient;
  /** Injectable clock (Unix ms), so tests can freeze or move time. */
  now?: () => number;
}

/**
 * `await createStrategy({ name: 'blacklist', jwt: { engine: 'fast-jwt', alg: 'HS256' } }, { redis })`.
 * Options are checked first: a bad one names its field, what is allowed and what was given.
 */
export async function createStrategy(input: StrategyOptionsInput, context: StrategyContext = {}): Promise<Strategy> {
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
  }
  // Named so decide can plan them; their implementations merge from their own branches.
  throw new InvalidOptionError('name', `a strategy built in this version (pure, blacklist, whitelist, double-token)`, options.name);
}
