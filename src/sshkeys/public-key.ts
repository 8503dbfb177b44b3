/**
 * OpenSSH public keys, parsed: `<type> <base64 blob> [comment]` on one line (RFC 4253 §6.6 wire format in
 * the blob, RFC 5656 for ECDSA, RFC 8709 for Ed25519). The blob must decode, name the same type as the
 * text before it, and hold exactly the fields of that type; RSA moduli have at least 2048 bits; DSA,
 * certificates, security-key types and private keys are refused. The fingerprint is what
 * `ssh-keygen -l -E sha256` prints: `SHA256:` and the unpadded base64 of the SHA-256 of the blob. Pure.
 */
import { createHash } from 'node:crypto';
import { unsafeTextCharacter } from '../core/index.ts';
import { sshKeyLimits, sshKeyTypesAccepted, type SshKeyType } from '../contract/index.ts';

export interface ParsedPublicKey {
  type: SshKeyType;
  /** RSA: modulus bits; ECDSA: curve bits; Ed25519: 256. */
  bits: number;
  fingerprint: string;
  /** The canonical line: type, the blob re-encoded, and the comment if any (spaces kept, trimmed). */
  publicKey: string;
  comment: string | null;
}

export type PublicKeyProblem =
  { ok: false; reason: 'invalid_public_key'; message: string } | { ok: false; reason: 'weak_key'; message: string };

export type PublicKeyResult = ({ ok: true } & ParsedPublicKey) | PublicKeyProblem;

const curves: Record<string, { name: string; bits: number; pointBytes: number }> = {
  'ecdsa-sha2-nistp256': { name: 'nistp256', bits: 256, pointBytes: 65 },
  'ecdsa-sha2-nistp384': { name: 'nistp384', bits: 384, pointBytes: 97 },
  'ecdsa-sha2-nistp521': { name: 'nistp521', bits: 521, pointBytes: 133 },
};

const invalid = (message: string): PublicKeyProblem => ({ ok: false, reason: 'invalid_public_key', message });

/** Reads SSH wire strings (uint32 length, then bytes) one after another; null past the end. */
function reader(blob: Buffer) {
  let offset = 0;
  return {
    string(): Buffer | null {
      if (offset + 4 > blob.length) return null;
      const length = blob.readUInt32BE(offset);
      if (offset + 4 + length > blob.length) return null;
      const out = blob.subarray(offset + 4, offset + 4 + length);
      offset += 4 + length;
      return out;
    },
    done: () => offset === blob.length,
  };
}

/** The bit length of an SSH mpint (big-endian, a leading zero byte when the top bit is set). */
function mpintBits(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]));
}

export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export function parsePublicKey(input: string): PublicKeyResult {
  if (typeof input !== 'string') return invalid('not text');
  const text = input.trim();
  if (text.length === 0) return invalid('empty');
  if (/PRIVATE KEY/.test(text))
    return invalid('this is a private key: paste the public key (the .pub file), and keep the private key secret');
  if (/[\r\n]/.test(text)) return invalid('one key on one line');
  const unsafe = unsafeTextCharacter(text);
  if (unsafe) return invalid(`a control or line-separator character (${unsafe})`);
  const match = /^(\S+) +(\S+)(?: +(.*))?$/.exec(text);
  if (!match) return invalid('expected "type base64 [comment]", e.g. ssh-ed25519 AAAAC3… me@laptop');
  const [, type, base64, rawComment] = match;
  if (type === 'ssh-dss') return invalid('DSA keys are not accepted (weak, removed from OpenSSH): use ssh-ed25519');
  if (!(sshKeyTypesAccepted as readonly string[]).includes(type))
    return invalid(`key type ${type} is not accepted: use one of ${sshKeyTypesAccepted.join(', ')}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return invalid('the key is not valid base64');
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64) return invalid('the key is not valid base64');
  const r = reader(blob);
  const inner = r.string();
  if (!inner || inner.toString('latin1') !== type)
    return invalid(`the key's blob does not name ${type}${inner ? ` (it says ${inner.toString('latin1')})` : ''}`);
  let bits: number;
  if (type === 'ssh-ed25519') {
    const point = r.string();
    if (!point || point.length !== 32) return invalid('an Ed25519 key holds 32 bytes');
    bits = 256;
  } else if (type === 'ssh-rsa') {
    const exponent = r.string();
    const modulus = r.string();
    if (!exponent || !modulus || exponent.length === 0 || mpintBits(modulus) === 0)
      return invalid('an RSA key holds an exponent and a modulus');
    if ((modulus[0] & 0x80) !== 0 || (exponent[0] & 0x80) !== 0) return invalid('negative RSA number');
    bits = mpintBits(modulus);
    if (bits < sshKeyLimits.rsaMinBits)
      return {
        ok: false,
        reason: 'weak_key',
        message: `RSA keys need at least ${sshKeyLimits.rsaMinBits} bits; this one has ${bits}`,
      };
  } else {
    const curve = curves[type];
    const name = r.string();
    const point = r.string();
    if (!name || name.toString('latin1') !== curve.name) return invalid(`the key's curve is not ${curve.name}`);
    if (!point || point.length !== curve.pointBytes || point[0] !== 0x04)
      return invalid(`an ${type} key holds an uncompressed ${curve.name} point`);
    bits = curve.bits;
  }
  if (!r.done()) return invalid('trailing bytes after the key');
  const comment = rawComment?.trim() || null;
  return {
    ok: true,
    type: type as SshKeyType,
    bits,
    fingerprint: sshFingerprint(blob),
    publicKey: comment ? `${type} ${base64} ${comment}` : `${type} ${base64}`,
    comment,
  };
}
