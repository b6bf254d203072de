import { describe, expect, it } from 'vitest';
import { parseInfo } from './redis/replies.ts';
import { serverFromInfo } from './server-identity.ts';

describe('serverFromInfo', () => {
  it("takes Valkey's own version, not the Redis version it reports for compatibility", () => {
    const valkey = '# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\nredis_mode:standalone\r\n';
    expect(serverFromInfo(parseInfo(valkey))).toEqual({ name: 'valkey', version: '8.0.1' });
    expect(serverFromInfo(parseInfo('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n'))).toEqual({ name: 'redis', version: '7.0.15' });
    expect(serverFromInfo(parseInfo('# Server\r\n'))).toBeUndefined();
  });
});
