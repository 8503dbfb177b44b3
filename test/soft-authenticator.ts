/**
 * A software WebAuthn authenticator for API tests (no browser): an ES256 key pair per credential, `none`
 * attestation, discoverable credentials with user verification, and a signature counter that grows with
 * each assertion. It answers the JSON forms a browser gives (`RegistrationResponseJSON`,
 * `AuthenticationResponseJSON`) for the options the server hands out.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** CBOR, the few types WebAuthn needs: unsigned and negative integers, byte and text strings, maps. */
function cbor(value: unknown): Buffer {
  const head = (major: number, length: number) => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 256) return Buffer.from([(major << 5) | 24, length]);
    const out = Buffer.alloc(3);
    out[0] = (major << 5) | 25;
    out.writeUInt16BE(length, 1);
    return out;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (Buffer.isBuffer(value)) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Map)
    return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  throw new Error(`cbor: unsupported ${typeof value}`);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64url = (data: Buffer) => data.toString('base64url');

export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  userHandle: string;
  counter: number;
}

export function createSoftAuthenticator(origin: string) {
  const flags = { up: 0x01, uv: 0x04, at: 0x40 };
  const authData = (rpId: string, flagBits: number, counter: number, attested?: Buffer) => {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flagBits]), count, ...(attested ? [attested] : [])]);
  };
  const clientData = (type: string, challenge: string, at = origin) =>
    Buffer.from(JSON.stringify({ type, challenge, origin: at, crossOrigin: false }));

  return {
    /** Answers registration options: a new credential (not registered anywhere until the server stores it). */
    create(
      options: { challenge: string; rp: { id?: string }; user: { id: string } },
      tweak: { origin?: string; userVerified?: boolean; credentialId?: string } = {},
    ) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const coseKey = new Map<number, unknown>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]);
      const credentialId = tweak.credentialId ? Buffer.from(tweak.credentialId, 'base64url') : randomBytes(16);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(credentialId.length);
      const attested = Buffer.concat([Buffer.alloc(16), idLength, credentialId, cbor(coseKey)]);
      const uv = tweak.userVerified === false ? 0 : flags.uv;
      const attestationObject = cbor(
        new Map<string, unknown>([
          ['fmt', 'none'],
          ['attStmt', new Map()],
          ['authData', authData(options.rp.id ?? 'localhost', flags.up | uv | flags.at, 0, attested)],
        ]),
      );
      const credential: SoftCredential = {
        id: b64url(credentialId),
        privateKey,
        userHandle: options.user.id,
        counter: 0,
      };
      return {
        credential,
        response: {
          id: credential.id,
          rawId: credential.id,
          type: 'public-key' as const,
          response: {
            clientDataJSON: b64url(clientData('webauthn.create', options.challenge, tweak.origin)),
            attestationObject: b64url(attestationObject),
            transports: ['internal'],
          },
          clientExtensionResults: {},
        },
      };
    },

    /** Answers sign-in options with `credential`: its counter grows by one (unless `counter` says). */
    get(
      credential: SoftCredential,
      options: { challenge: string; rpId?: string },
      tweak: { counter?: number; origin?: string } = {},
    ) {
      credential.counter = tweak.counter ?? credential.counter + 1;
      const data = authData(options.rpId ?? 'localhost', flags.up | flags.uv, credential.counter);
      const client = clientData('webauthn.get', options.challenge, tweak.origin);
      const signature = sign('sha256', Buffer.concat([data, sha256(client)]), credential.privateKey);
      return {
        id: credential.id,
        rawId: credential.id,
        type: 'public-key' as const,
        response: {
          clientDataJSON: b64url(client),
          authenticatorData: b64url(data),
          signature: b64url(signature),
          userHandle: credential.userHandle,
        },
        clientExtensionResults: {},
      };
    },
  };
}
