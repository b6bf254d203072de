/**
 * The pure half of replicated-blacklist: what one tracked node's part of the denylist looks like
 * in memory, and how loads, invalidations and their confirmations change it. No I/O here; the
 * network half (strategies/replicated-blacklist.ts) feeds it in the order Redis answered.
 */

export type ReplicaKeyKind = 'entry' | 'watermark' | 'other';

export interface ReplicaPrefixes {
  /** `<keyPrefix>bl:`: one key per revoked token. */
  entry: string;
  /** `<keyPrefix>wm:`: one key per user whose tokens were all revoked up to a time. */
  watermark: string;
}

export function replicaPrefixes(keyPrefix: string): ReplicaPrefixes {
  return { entry: `${keyPrefix}bl:`, watermark: `${keyPrefix}wm:` };
}

export function classifyKey(key: string, prefixes: ReplicaPrefixes): ReplicaKeyKind {
  if (key.startsWith(prefixes.entry)) return 'entry';
  if (key.startsWith(prefixes.watermark)) return 'watermark';
  return 'other';
}

/** SCAN MATCH treats `*?[]\` as glob syntax; a key prefix holding one must match itself only. */
export function scanPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/**
 * Rough heap cost, for reports, not for limits: a one-byte string's header plus its characters,
 * plus a Set slot (a Map slot with its number for watermarks). Against heapUsed on Node 20, 100,000
 * entries of 51-character keys (`tb:bl:{user-<n>}:<uuid>`) took 98 B each; this says 99-103.
 */
const ENTRY_OVERHEAD_BYTES = 48;
const WATERMARK_OVERHEAD_BYTES = 64;

/**
 * One node's share of the replica. Every invalidation gets a ticket; a confirmation (the EXISTS or
 * GET sent after it) is applied only if no newer invalidation of that key arrived since, because
 * only the newest confirmation reflects the key's latest write. Entries are added as soon as the
 * invalidation arrives (fail-safe: a revocation is enforced before it is confirmed) and removed
 * only by a confirmation that the key is gone (expired or deleted).
 */
export class ReplicaShard {
  readonly entries = new Set<string>();
  /** Watermark key -> Unix ms: every token of that user issued up to then is revoked. */
  readonly watermarks = new Map<string, number>();
  readonly #pending = new Map<string, number>();
  #ticket = 0;
  #bytes = 0;

  get pendingConfirmations(): number {
    return this.#pending.size;
  }

  get bytesEstimate(): number {
    return this.#bytes;
  }

  /** A key SCAN returned: it existed when SCAN reached it. */
  loadedEntry(key: string): void {
    this.#addEntry(key);
  }

  /** A watermark as MGET returned it; null: it expired between SCAN and MGET. */
  loadedWatermark(key: string, value: string | null): void {
    if (value !== null) this.#raiseWatermark(key, value);
  }

  /** Redis said the key changed: returns the ticket its confirmation must carry. */
  invalidated(key: string, kind: Exclude<ReplicaKeyKind, 'other'>): number {
    const ticket = ++this.#ticket;
    this.#pending.set(key, ticket);
    if (kind === 'entry') this.#addEntry(key);
    return ticket;
  }

  confirmEntry(key: string, ticket: number, exists: boolean): void {
    if (this.#pending.get(key) !== ticket) return;
    this.#pending.delete(key);
    if (exists) this.#addEntry(key);
    else if (this.entries.delete(key)) this.#bytes -= key.length + ENTRY_OVERHEAD_BYTES;
  }

  /**
   * The watermark only rises: revokeAll writes `now`, and a writer whose clock lags another's must
   * not undo a later ban. Gone (expired) removes it: every token it covered has expired too.
   */
  confirmWatermark(key: string, ticket: number, value: string | null): void {
    if (this.#pending.get(key) !== ticket) return;
    this.#pending.delete(key);
    if (value !== null) this.#raiseWatermark(key, value);
    else if (this.watermarks.delete(key)) this.#bytes -= key.length + WATERMARK_OVERHEAD_BYTES;
  }

  #addEntry(key: string): void {
    if (this.entries.has(key)) return;
    this.entries.add(key);
    this.#bytes += key.length + ENTRY_OVERHEAD_BYTES;
  }

  #raiseWatermark(key: string, value: string): void {
    const ms = Number(value);
    if (!Number.isFinite(ms)) return;
    const held = this.watermarks.get(key);
    if (held === undefined) this.#bytes += key.length + WATERMARK_OVERHEAD_BYTES;
    if (held === undefined || ms > held) this.watermarks.set(key, ms);
  }
}
