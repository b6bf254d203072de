import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../core/secrets.ts';
import { normalizeScenario } from './scenario.ts';
import { resolveServicePort, serviceEnvironment } from './service.ts';

const names = normalizeScenario({ service: { command: 'true', ready: { url: 'http://127.0.0.1:{{port}}/healthz' } } }).service!.envNames;

describe('serviceEnvironment', () => {
  it('gives a single node as a URL, credentials in it and beside it', () => {
    expect(serviceEnvironment({ kind: 'single', endpoint: { host: '127.0.0.1', port: 6400 } }, names)).toEqual({ REDIS_URL: 'redis://127.0.0.1:6400' });
    expect(
      serviceEnvironment(
        { kind: 'single', endpoint: { host: 'db.internal', port: 6380 }, access: { username: 'bench', password: 'p@ss/w', tls: { rejectUnauthorized: true } } },
        names,
      ),
    ).toEqual({ REDIS_URL: 'rediss://bench:p%40ss%2Fw@db.internal:6380', REDIS_USERNAME: 'bench', REDIS_PASSWORD: 'p@ss/w' });
  });

  it('gives sentinels with the master name, and cluster nodes, under configurable names', () => {
    const sentinels = [
      { host: '127.0.0.1', port: 26379 },
      { host: '127.0.0.2', port: 26380 },
    ];
    expect(serviceEnvironment({ kind: 'sentinel', sentinels, masterName: 'mymaster', access: { sentinelPassword: 's' } }, names)).toEqual({
      REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.2:26380',
      REDIS_MASTER_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 's',
    });
    expect(serviceEnvironment({ kind: 'cluster', nodes: sentinels }, { ...names, clusterNodes: 'NODES' })).toEqual({
      NODES: '127.0.0.1:26379,127.0.0.2:26380',
    });
  });
});

describe('resolveServicePort', () => {
  it('replaces {{port}} in every string of the options, leaving the rest as it is', () => {
    const options = { name: 'http', http: { baseUrl: 'http://127.0.0.1:{{port}}/api', headers: ['x-port: {{port}}'] }, failurePolicy: 'fail-closed', n: 3 };
    expect(resolveServicePort(options, 4100)).toEqual({
      name: 'http',
      http: { baseUrl: 'http://127.0.0.1:4100/api', headers: ['x-port: 4100'] },
      failurePolicy: 'fail-closed',
      n: 3,
    });
  });

  it('refuses a {{port}} when the service printed none, naming the option', () => {
    expect(() => resolveServicePort({ http: { baseUrl: 'http://127.0.0.1:{{port}}' } }, undefined, 'node server.mjs')).toThrow(
      "service 'node server.mjs' printed no port, and http.baseUrl holds {{port}} (see service.portPattern)",
    );
    expect(resolveServicePort({ http: { baseUrl: 'http://127.0.0.1:8080' } }, undefined)).toEqual({ http: { baseUrl: 'http://127.0.0.1:8080' } });
  });
});

describe('the service in a scenario', () => {
  it('fills in its defaults', () => {
    const service = normalizeScenario({ service: { command: 'node server.mjs', ready: { url: 'http://127.0.0.1:{{port}}/healthz' } } }).service;
    expect(service).toMatchObject({
      env: {},
      ready: { timeout: 30_000 },
      stopTimeout: 5000,
      portPattern: 'listening on (\\d+)',
      envNames: { url: 'REDIS_URL' },
    });
  });

  it('is written to scenario.json as given: its variable names are no secrets', () => {
    const scenario = normalizeScenario({ service: { command: 'node server.mjs', ready: { url: 'http://127.0.0.1:{{port}}/healthz' } } });
    expect(redactSecrets(scenario).service).toEqual(scenario.service);
  });

  it('names a missing readiness URL and a bad port pattern', () => {
    expect(() => normalizeScenario({ service: { command: 'x' } })).toThrow(/service\.ready\.url/);
    expect(() => normalizeScenario({ service: { command: 'x', ready: { url: 'http://h/' }, portPattern: '(' } })).toThrow(
      /service\.portPattern: .*regular expression/,
    );
  });
});
