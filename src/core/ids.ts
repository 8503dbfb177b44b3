import { randomFillSync } from 'node:crypto';

/** Prefixes of every resource id: ids are prefixed and time-ordered (ULID-like, Crockford base32). */
export const idPrefixes = {
  server: 'srv',
  volume: 'vol',
  host: 'host',
  action: 'act',
  project: 'prj',
  user: 'usr',
  token: 'tok',
  audit: 'aud',
  event: 'evt',
  image: 'img',
  customImage: 'cimg',
  placementGroup: 'pg',
  snapshot: 'snap',
  request: 'req',
  sealedSecret: 'sec',
  kek: 'kek',
  backup: 'bkp',
  restore: 'rst',
  webhook: 'whk',
  webhookMessage: 'msg',
  webhookAttempt: 'atm',
  network: 'net',
  floatingIp: 'fip',
  primaryIp: 'pip',
  firewall: 'fw',
  sshKey: 'key',
  attack: 'atk',
  invoice: 'inv',
  price: 'prc',
  incident: 'inc',
  incidentUpdate: 'inu',
  maintenance: 'mnt',
  probe: 'prb',
  session: 'ses',
  userLink: 'lnk',
  invitation: 'ivt',
  passkey: 'pky',
  passkeyChallenge: 'pkc',
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

// Random bytes come from a pool refilled 4 KiB at a time: one system call per 256 ids, not one per id.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function encodeRandom(byteCount: number): string {
  if (poolOffset + byteCount > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = '';
  for (let i = 0; i < byteCount; i++) out += alphabet[pool[poolOffset + i] % 32];
  poolOffset += byteCount;
  return out;
}

/** `srv_01j...`: 10 chars of milliseconds then 16 random chars, so ids sort by creation time. */
export function newId(kind: IdKind, epochMs: number = Date.now()): string {
  return `${idPrefixes[kind]}_${encodeTime(epochMs)}${encodeRandom(16)}`;
}

export function hasPrefix(kind: IdKind, id: string): boolean {
  return id.startsWith(`${idPrefixes[kind]}_`);
}
