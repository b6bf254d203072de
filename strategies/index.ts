export { createStrategy, type StrategyContext } from './create.ts';
export { DEFAULT_JWT_SETTINGS, STRATEGY_NAMES, normalizeStrategyOptions, type StrategyOptions, type StrategyOptionsInput } from './options.ts';
export { REJECT_CODES, type Ack, type Guarantee, type Issued, type IssuedTokens, type Refreshed, type RejectCode, type Strategy, type StrategyName, type Verdict } from './types.ts';
export { TOKEN_TYPES, TokenService, type JwtSettings, type TokenKind } from './jwt/token-service.ts';
export { JWT_ENGINES, type JwtEngineName } from './jwt/engines.ts';
export { JWT_ALGORITHMS, type JwtAlgorithm } from './jwt/keys.ts';
