/** OpenSSH public key lines made with node:crypto, for the tests of saved SSH keys (REST, CLI, console, GraphQL). */
import { generateKeyPairSync } from 'node:crypto';

/** An SSH wire-format string: a 32-bit big-endian length, then the bytes. */
export const wire = (b: Buffer | string): Buffer => {
  const bytes = typeof b === 'string' ? Buffer.from(b) : b;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/** A fresh Ed25519 public key line. */
export function ed25519Key(comment = 'me@laptop'): string {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return `ssh-ed25519 ${Buffer.concat([wire('ssh-ed25519'), wire(raw)]).toString('base64')} ${comment}`;
}
