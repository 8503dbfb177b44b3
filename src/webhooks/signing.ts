/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of the
 * key; the signature of a message is `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)), and
 * `webhook-signature` lists one per secret in force, space-separated.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const secretPrefix = 'whsec_';

/** A new signing secret: 32 random bytes. */
export function newSigningSecret(): string {
  return secretPrefix + randomBytes(32).toString('base64');
}

/** The HMAC key of a `whsec_…` secret. */
export function signingKeyOf(secret: string): Buffer {
  if (!secret.startsWith(secretPrefix)) throw new Error('a webhook secret starts with whsec_');
  return Buffer.from(secret.slice(secretPrefix.length), 'base64');
}

/** One `v1,…` signature of a message. */
export function signatureOf(key: Buffer, id: string, timestampS: number, body: string): string {
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestampS}.${body}`).digest('base64');
}

/** The three Standard Webhooks headers of a message, signed with every key in force. */
export function webhookHeaders(keys: Buffer[], id: string, timestampS: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': keys.map((key) => signatureOf(key, id, timestampS, body)).join(' '),
  };
}
