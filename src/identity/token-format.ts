import { createHash, randomBytes } from 'node:crypto';

/**
 * API token format: `vmc_` + 30 random base62 characters + 6 base62 characters of CRC-32 checksum, so a
 * typo or a truncated token is refused without a database lookup, and secret scanners can match
 * `vmc_[0-9A-Za-z]{36}`. Only the SHA-256 of a token is stored.
 */
export const tokenPrefix = 'vmc_';
const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const randomLength = 30;
const checksumLength = 6;

function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) {
    crc ^= text.charCodeAt(i);
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function toBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = base62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

export function generateTokenSecret(): string {
  const bytes = randomBytes(randomLength);
  let body = '';
  for (const byte of bytes) body += base62[byte % 62];
  return tokenPrefix + body + toBase62(crc32(body), checksumLength);
}

/** True when the text has the shape and checksum of a VMCloud token. */
export function isWellFormedToken(text: string): boolean {
  if (!text.startsWith(tokenPrefix) || text.length !== tokenPrefix.length + randomLength + checksumLength) return false;
  const body = text.slice(tokenPrefix.length, tokenPrefix.length + randomLength);
  if (!/^[0-9A-Za-z]+$/.test(body)) return false;
  return text.slice(-checksumLength) === toBase62(crc32(body), checksumLength);
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** What lists show of a token: its start, never enough to use it. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, tokenPrefix.length + 6);
}
