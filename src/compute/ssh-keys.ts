/**
 * OpenSSH public keys as servers take them: `<type> <base64> [comment]` on one line, a known key type, a
 * blob that decodes and names the same type, and no control or line-separator character anywhere (the
 * comment included). One definition for the API (at create time) and the NoCloud seed (before a boot). Pure.
 */
import { unsafeTextCharacter } from '../core/text.ts';

export const sshKeyTypes: ReadonlySet<string> = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);
export const sshKeyMaxLength = 16_384;

export function isValidSshPublicKey(text: string): boolean {
  if (typeof text !== 'string') return false;
  const line = text.trim();
  if (line.length > sshKeyMaxLength || unsafeTextCharacter(line) !== null) return false;
  const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: .*)?$/.exec(line);
  if (!match || !sshKeyTypes.has(match[1])) return false;
  const [, type, blob] = match;
  const bytes = Buffer.from(blob, 'base64');
  if (bytes.length < 4 + type.length) return false;
  const typeLength = bytes.readUInt32BE(0);
  return typeLength === type.length && bytes.subarray(4, 4 + typeLength).toString('latin1') === type;
}
