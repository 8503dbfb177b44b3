/** ECDSA P-256 key pairs through WebCrypto, and their PEM (PKCS#8) form that node:tls reads. */
import { webcrypto } from 'node:crypto';

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ecdsaSha256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

export function generateP256KeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsaP256, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

export async function exportPkcs8(key: CryptoKey): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
}

export function pkcs8ToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** A signing key that cannot be exported again (the CA key, once unsealed). */
export function importP256SigningKey(pkcs8: Buffer): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', pkcs8, ecdsaP256, false, ['sign']);
}
