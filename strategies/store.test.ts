import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketMember } from './blacklist.ts';
import { encodeKeyPart, redisKey } from './store.ts';

/** The characters that broke key building: brace, colon, glob, newline, NUL, the escape itself, lone surrogates. */
const AWKWARD = ['}', '{', ':', '*', '\n', '\0', '%', '%7D', 'a', '\uD800', '\uDBFF', '\uDC00', '😀', ' '];
const awkward = fc.string({ unit: fc.constantFrom(...AWKWARD), maxLength: 10 });
const claim = fc.oneof(awkward, fc.string({ unit: 'binary' }), fc.string());

/** What Redis hashes for a Cluster slot: the text between the first `{` and the next `}`, if not empty (CLUSTER KEYSLOT). */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close < 0 || close === open + 1 ? key : key.slice(open + 1, close);
}

/** The inverse of encodeKeyPart: that one exists is what makes the encoding injective. */
function decodeKeyPart(encoded: string): string {
  if (encoded !== '%0') expect(encoded).not.toMatch(/%(?!25|7D|u[0-9A-F]{4})/);
  if (encoded === '%0') return '';
  return encoded.replace(/%(25|7D|u[0-9A-F]{4})/g, (_, code: string) =>
    code === '25' ? '%' : code === '7D' ? '}' : String.fromCharCode(Number.parseInt(code.slice(1), 16)),
  );
}

/** A key read back into its subject and rest, the way nothing but the key's own text allows. */
function parseKey(key: string, head: string): [tag: string, rest: string | undefined] {
  expect(key.startsWith(`${head}{`)).toBe(true);
  const close = key.indexOf('}', head.length);
  const tail = key.slice(close + 1);
  if (tail !== '') expect(tail.startsWith(':')).toBe(true);
  return [decodeKeyPart(key.slice(head.length + 1, close)), tail === '' ? undefined : decodeKeyPart(tail.slice(1))];
}

/** Keys and members reach Redis as UTF-8: compare what Redis stores, not the JS strings. */
const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('encodeKeyPart', () => {
  it('leaves ordinary claims as they are', () => {
    for (const text of ['user-42', 'alice@example.com', 'Zm9vYmFy-_', 'a:b', 'x{y', '😀']) expect(encodeKeyPart(text)).toBe(text);
  });

  it('is injective on the bytes Redis stores, and its output holds no } and is well-formed UTF-16', () => {
    fc.assert(
      fc.property(claim, claim, (a, b) => {
        const ea = encodeKeyPart(a);
        expect(ea).not.toContain('}');
        // Well-formed: UTF-8 carries it there and back unchanged.
        expect(bytes(ea).toString('utf8')).toBe(ea);
        if (a !== b) expect(bytes(ea).equals(bytes(encodeKeyPart(b)))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('can be read back: decoding gives the claim again', () => {
    fc.assert(
      fc.property(claim, (text) => {
        expect(decodeKeyPart(encodeKeyPart(text))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps lone surrogates apart, which UTF-8 alone would merge into U+FFFD', () => {
    expect(bytes('\uD800').equals(bytes('\uDBFF'))).toBe(true);
    expect(encodeKeyPart('\uD800')).not.toBe(encodeKeyPart('\uDBFF'));
  });
});

describe('redisKey', () => {
  it("no two distinct (subject, jti) pairs share a key; all of a user's keys hash to the subject", () => {
    fc.assert(
      fc.property(claim, claim, claim, claim, (sub1, jti1, sub2, jti2) => {
        const entry1 = redisKey('tb:', 'bl', sub1, jti1);
        const entry2 = redisKey('tb:', 'bl', sub2, jti2);
        if (sub1 !== sub2 || jti1 !== jti2) expect(bytes(entry1).equals(bytes(entry2))).toBe(false);
        // The entry and the watermark: one slot, the subject's, so one MGET never crosses slots.
        expect(hashTag(entry1)).toBe(encodeKeyPart(sub1));
        expect(hashTag(redisKey('tb:', 'wm', sub1))).toBe(hashTag(entry1));
      }),
      { numRuns: 2000 },
    );
  });

  it('can be read back into the subject and the jti', () => {
    fc.assert(
      fc.property(claim, fc.option(claim, { nil: undefined }), (sub, jti) => {
        expect(parseKey(redisKey('tb:', 'bl', sub, jti), 'tb:bl:')).toEqual([sub, jti]);
      }),
      { numRuns: 2000 },
    );
  });

  it('the collision the old layout had: {a}:b}:c was both (a}:b, c) and (a, b}:c)', () => {
    expect(redisKey('tb:', 'bl', 'a}:b', 'c')).not.toBe(redisKey('tb:', 'bl', 'a', 'b}:c'));
    expect(redisKey('tb:', 'bl', 'a}:b', 'c')).toBe('tb:bl:{a%7D:b}:c');
  });
});

describe('bucketMember', () => {
  it('no two distinct (subject, jti) pairs share a member', () => {
    fc.assert(
      fc.property(claim, claim, claim, claim, (sub1, jti1, sub2, jti2) => {
        if (sub1 === sub2 && jti1 === jti2) return;
        expect(bytes(bucketMember(sub1, jti1)).equals(bytes(bucketMember(sub2, jti2)))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('can be read back into the subject and the jti', () => {
    fc.assert(
      fc.property(claim, claim, (sub, jti) => {
        const member = bucketMember(sub, jti);
        const split = member.indexOf('}');
        expect([decodeKeyPart(member.slice(0, split)), decodeKeyPart(member.slice(split + 1))]).toEqual([sub, jti]);
      }),
      { numRuns: 2000 },
    );
  });

  it('two users of one group with the same jti get different members', () => {
    expect(bucketMember('alice', 'same-jti')).not.toBe(bucketMember('bob', 'same-jti'));
  });
});
