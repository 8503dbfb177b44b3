import { randomBytes } from 'node:crypto';

/** Prefixes of every resource id: ids are prefixed and time-ordered (ULID-like, Crockford base32). */
export const idPrefixes = {
  server: 'srv',
  host: 'host',
  action: 'act',
  project: 'prj',
  user: 'usr',
  token: 'tok',
  audit: 'aud',
  event: 'evt',
  image: 'img',
  placementGroup: 'pg',
  snapshot: 'snap',
  request: 'req',
} as const;

export type IdKind = keyof typeof idPrefixes;

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(epochMs: number): string {
  let out = '';
  let value = epochMs;
  for (let i = 0; i < 10; i++) {
    out = alphabet[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

function encodeRandom(byteCount: number): string {
  const bytes = randomBytes(byteCount);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % 32];
  return out;
}

/** `srv_01j...`: 10 chars of milliseconds then 16 random chars, so ids sort by creation time. */
export function newId(kind: IdKind, epochMs: number = Date.now()): string {
  return `${idPrefixes[kind]}_${encodeTime(epochMs)}${encodeRandom(16)}`;
}

export function hasPrefix(kind: IdKind, id: string): boolean {
  return id.startsWith(`${idPrefixes[kind]}_`);
}
