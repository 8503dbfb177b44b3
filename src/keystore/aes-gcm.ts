/**
 * AES-256-GCM framing shared by every KEK provider: a random 96-bit IV, a 128-bit tag, the bytes laid out
 * as iv ‖ ciphertext ‖ tag. Software encryption (the file provider) lives here as two pure functions.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { VmcError } from '../core/errors.ts';

export const gcmIvBytes = 12;
export const gcmTagBytes = 16;
export const aes256KeyBytes = 32;

export function newGcmIv(): Buffer {
  return randomBytes(gcmIvBytes);
}

export function decryptFailed(keyId: string, cause?: unknown): VmcError {
  return new VmcError('internal', `decryption under key ${keyId} failed: wrong key, wrong AAD or altered ciphertext`, {
    reason: 'decrypt_failed',
    details: { keyId },
    cause,
  });
}

export function aesGcmEncrypt(key: Buffer, plaintext: Buffer, aad: Buffer, iv: Buffer = newGcmIv()): Buffer {
  if (key.length !== aes256KeyBytes) throw new Error(`AES-256 needs a ${aes256KeyBytes}-byte key`);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: gcmTagBytes });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Throws VmcError internal (decrypt_failed) when authentication fails or the framing is short. */
export function aesGcmDecrypt(key: Buffer, sealed: Buffer, aad: Buffer, keyId: string): Buffer {
  if (sealed.length < gcmIvBytes + gcmTagBytes) throw decryptFailed(keyId);
  const iv = sealed.subarray(0, gcmIvBytes);
  const tag = sealed.subarray(sealed.length - gcmTagBytes);
  const body = sealed.subarray(gcmIvBytes, sealed.length - gcmTagBytes);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: gcmTagBytes });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (error) {
    throw decryptFailed(keyId, error);
  }
}
