// A small service with a Redis blacklist, written the way a team might: tokenbench drives it over
// HTTP (examples/http-service/tokenbench.yaml). node:http, ioredis and jose; no framework.
//
//   POST /login {subject}          -> 200 {accessToken}
//   GET  /me            (Bearer)   -> 200 {subject} | 401 {error} | 503 when Redis fails (fail-closed)
//   POST /logout        (Bearer)   -> 204 | 401 | 503
//   POST /users/:subject/revoke-all -> 204 | 503
//   GET  /healthz                  -> 200 when Redis answers PING, else 503
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Cluster, Redis } from 'ioredis';
import { jwtVerify, SignJWT } from 'jose';

// Everything read from the environment, in one place.
const ENV = {
  /** redis://host:port for a single node. */
  url: process.env.REDIS_URL,
  /** host:port,host:port of the sentinels, with the master's name. */
  sentinels: process.env.REDIS_SENTINELS,
  masterName: process.env.REDIS_MASTER_NAME ?? 'mymaster',
  /** host:port,... of cluster nodes (any subset: the client discovers the rest). */
  clusterNodes: process.env.REDIS_CLUSTER_NODES,
  /** A development secret: set JWT_SECRET (32+ characters) anywhere that matters. */
  jwtSecret: process.env.JWT_SECRET ?? 'dev-only-secret-change-me-0123456789abcdef',
  /** 0: any free port, announced on stdout as the first line. */
  port: Number(process.env.PORT ?? 3000),
  /** Below the caller's request timeout, so an outage shows as a 503 rather than a client timeout. */
  redisTimeoutMs: Number(process.env.REDIS_COMMAND_TIMEOUT_MS ?? 500),
};

const ACCESS_TTL_S = 30 * 60;
const secret = new TextEncoder().encode(ENV.jwtSecret);

const hostPort = (text) =>
  text.split(',').map((item) => {
    const [host, port] = item.trim().split(':');
    return { host, port: Number(port) };
  });

function connect() {
  const common = { commandTimeout: ENV.redisTimeoutMs, connectTimeout: 1000, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(50 * n, 500) };
  if (ENV.clusterNodes) return new Cluster(hostPort(ENV.clusterNodes), { redisOptions: common, slotsRefreshTimeout: 1000 });
  if (ENV.sentinels)
    return new Redis({
      ...common,
      sentinels: hostPort(ENV.sentinels),
      name: ENV.masterName,
      failoverDetector: true,
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    });
  if (ENV.url) return new Redis(ENV.url, common);
  throw new Error('set REDIS_URL, REDIS_SENTINELS (+ REDIS_MASTER_NAME) or REDIS_CLUSTER_NODES');
}

const redis = connect();
// Errors surface per request as 503; the client reconnects on its own.
redis.on('error', () => {});

// One hash tag per user: both keys a verify reads sit in one cluster slot, so one MGET reads them.
const revokedKey = (subject, jti) => `svc:{${subject}}:revoked:${jti}`;
const revokedBeforeKey = (subject) => `svc:{${subject}}:revoked-before`;

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return undefined;
  }
}

/** The bearer token's claims, or undefined for a missing, forged or expired token. */
async function claimsOf(req) {
  const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!match) return undefined;
  try {
    return (await jwtVerify(match[1], secret, { algorithms: ['HS256'] })).payload;
  } catch {
    return undefined;
  }
}

async function isRevoked(claims) {
  const [byToken, before] = await redis.mget(revokedKey(claims.sub, claims.jti), revokedBeforeKey(claims.sub));
  return byToken !== null || (before !== null && claims.iat_ms < Number(before));
}

const routes = {
  'POST /login': async (req, res) => {
    const body = await readJson(req);
    if (typeof body?.subject !== 'string' || body.subject === '') return send(res, 400, { error: 'subject required' });
    const nowMs = Date.now();
    // iat_ms: a revoke-all compares issue times to the millisecond; iat alone has whole seconds.
    const accessToken = await new SignJWT({ iat_ms: nowMs })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(body.subject)
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(nowMs / 1000))
      .setExpirationTime(Math.floor(nowMs / 1000) + ACCESS_TTL_S)
      .sign(secret);
    send(res, 200, { accessToken });
  },
  'GET /me': async (req, res) => {
    const claims = await claimsOf(req);
    if (!claims) return send(res, 401, { error: 'invalid token' });
    if (await isRevoked(claims)) return send(res, 401, { error: 'revoked' });
    send(res, 200, { subject: claims.sub });
  },
  'POST /logout': async (req, res) => {
    const claims = await claimsOf(req);
    if (!claims) return send(res, 401, { error: 'invalid token' });
    const ttlMs = claims.exp * 1000 - Date.now();
    if (ttlMs > 0) await redis.set(revokedKey(claims.sub, claims.jti), '1', 'PX', ttlMs);
    send(res, 204);
  },
  'GET /healthz': async (_req, res) => {
    await redis.ping();
    send(res, 200, { ok: true });
  },
};

const REVOKE_ALL = /^\/users\/([^/]+)\/revoke-all$/;

async function handle(req, res) {
  const path = (req.url ?? '/').split('?')[0];
  const revokeAll = req.method === 'POST' ? REVOKE_ALL.exec(path) : null;
  try {
    if (revokeAll) {
      // Tokens issued before this instant are revoked; kept as long as the longest token lives.
      await redis.set(revokedBeforeKey(decodeURIComponent(revokeAll[1])), String(Date.now()), 'EX', ACCESS_TTL_S + 60);
      return send(res, 204);
    }
    const route = routes[`${req.method} ${path}`];
    if (!route) return send(res, 404, { error: 'not found' });
    await route(req, res);
  } catch (error) {
    // Redis failed (or timed out): fail closed.
    if (!res.headersSent) send(res, 503, { error: 'store unavailable', detail: error.message });
  }
}

const server = createServer((req, res) => void handle(req, res));
server.keepAliveTimeout = 65_000;
server.listen(ENV.port, '127.0.0.1', () => {
  process.stdout.write(`listening on ${server.address().port}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
