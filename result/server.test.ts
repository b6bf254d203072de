import { describe, expect, it } from 'vitest';
import { serverText } from './server.ts';

describe('serverText', () => {
  it('reads as name and version, the entry label when there is one, the image when the server would not say', () => {
    expect(serverText({ name: 'valkey', version: '8.0.1', binary: '/usr/bin/valkey-server' })).toBe('valkey 8.0.1');
    expect(serverText({ name: 'valkey', version: '8.0.1', label: 'valkey nightly' })).toBe('valkey nightly');
    expect(serverText({ name: 'unknown', version: null, image: 'valkey/valkey:8' })).toBe('image valkey/valkey:8');
  });
});
