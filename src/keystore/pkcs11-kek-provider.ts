/**
 * The KEK provider on a PKCS#11 token (an HSM; SoftHSM2 in tests and CI), through pkcs11js. Keys are
 * AES-256 secret-key objects generated on the token (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not
 * extractable), labelled with their key id; AES-GCM runs on the token, so key bytes never enter this
 * process. The current key is the greatest `kek_…` label on the token, so every replica agrees.
 *
 * The library is process-wide: the instance that initialised it finalises it on close. Open one provider
 * per process and share it; a second instance in the same process (tests) must be closed before the first.
 */
import pkcs11js from 'pkcs11js';
import type { Clock } from '../core/clock.ts';
import { VmcError } from '../core/errors.ts';
import { decryptFailed, gcmIvBytes, gcmTagBytes, newGcmIv } from './aes-gcm.ts';
import { newestKekId, nextKekId } from './kek-ids.ts';
import type { KekProvider } from './kek-provider.ts';

export const defaultPkcs11ModulePath = '/usr/lib/softhsm/libsofthsm2.so';

export interface Pkcs11KekProviderOptions {
  /** The token's PKCS#11 module; default SoftHSM2 from Debian. */
  modulePath?: string;
  /** The CKA label of the token (softhsm2-util --label). */
  tokenLabel: string;
  /** The user PIN; the caller reads it from VMCLOUD_PKCS11_PIN or a file, never from a flag. */
  pin: string;
  clock: Clock;
}

const kekLabelPattern = /^kek_[0-9a-z]{26}$/;
type Handle = Buffer;

function pkcs11Code(error: unknown): number | undefined {
  return error instanceof pkcs11js.Pkcs11Error ? error.code : undefined;
}

function tokenError(what: string, error: unknown): VmcError {
  const message = error instanceof Error ? error.message : String(error);
  return new VmcError('unavailable', `PKCS#11 ${what} failed: ${message}`, { reason: 'pkcs11_error', cause: error });
}

/** Failures a token reports for a ciphertext that does not authenticate (SoftHSM2 says GENERAL_ERROR). */
const authenticationFailures = new Set([
  pkcs11js.CKR_ENCRYPTED_DATA_INVALID,
  pkcs11js.CKR_ENCRYPTED_DATA_LEN_RANGE,
  pkcs11js.CKR_GENERAL_ERROR,
  pkcs11js.CKR_FUNCTION_FAILED,
]);

export async function openPkcs11KekProvider(options: Pkcs11KekProviderOptions): Promise<KekProvider> {
  const modulePath = options.modulePath ?? defaultPkcs11ModulePath;
  const library = new pkcs11js.PKCS11();
  try {
    library.load(modulePath);
  } catch (error) {
    throw new VmcError('unavailable', `cannot load the PKCS#11 module ${modulePath}: ${(error as Error).message}`, {
      reason: 'pkcs11_module',
      cause: error,
    });
  }
  let ownsLibrary = true;
  try {
    library.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (pkcs11Code(error) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw tokenError('C_Initialize', error);
    ownsLibrary = false;
  }

  let session: Handle;
  try {
    session = openSession(library, options.tokenLabel, options.pin);
  } catch (error) {
    if (ownsLibrary) library.C_Finalize();
    throw error;
  }

  let closed = false;
  const handles = new Map<string, Handle>();

  function live(): void {
    if (closed)
      throw new VmcError('unavailable', 'the PKCS#11 key provider is closed', { reason: 'kek_provider_closed' });
  }

  /** Every KEK on the token, by label; refreshes the handle cache. */
  function scanKeys(): Map<string, Handle> {
    live();
    try {
      library.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      ]);
      const found: Handle[] = [];
      for (
        let batch = library.C_FindObjects(session, 64);
        batch.length > 0;
        batch = library.C_FindObjects(session, 64)
      ) {
        found.push(...batch);
      }
      library.C_FindObjectsFinal(session);
      handles.clear();
      for (const handle of found) {
        const [label] = library.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }]);
        const id = label.value.toString('utf8');
        if (kekLabelPattern.test(id)) handles.set(id, handle);
      }
      return handles;
    } catch (error) {
      throw tokenError('key lookup', error);
    }
  }

  function handleOf(keyId: string): Handle {
    live();
    const handle = handles.get(keyId) ?? scanKeys().get(keyId);
    if (!handle) {
      throw new VmcError('unavailable', `key ${keyId} is not on the PKCS#11 token ${options.tokenLabel}`, {
        reason: 'kek_missing',
        details: { keyId },
      });
    }
    return handle;
  }

  function generateKey(): string {
    const id = nextKekId([...scanKeys().keys()], options.clock.nowMs());
    try {
      const handle = library.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_WRAP, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
        { type: pkcs11js.CKA_LABEL, value: id },
        { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      ]);
      handles.set(id, handle);
      return id;
    } catch (error) {
      throw tokenError('C_GenerateKey', error);
    }
  }

  function gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
    const parameter: pkcs11js.GcmParams = {
      type: pkcs11js.CK_PARAMS_AES_GCM_v240,
      iv,
      ivBits: gcmIvBytes * 8,
      aad,
      tagBits: gcmTagBytes * 8,
    };
    return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
  }

  if (scanKeys().size === 0) generateKey();

  return {
    kind: 'pkcs11',
    currentKeyId: async () => {
      const newest = newestKekId([...scanKeys().keys()]);
      return newest ?? generateKey();
    },
    listKeyIds: async () => [...scanKeys().keys()].sort(),
    encrypt: async (keyId, plaintext, aad) => {
      const handle = handleOf(keyId);
      const iv = newGcmIv();
      try {
        library.C_EncryptInit(session, gcm(iv, aad), handle);
        const body = library.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + gcmTagBytes));
        return Buffer.concat([iv, body]);
      } catch (error) {
        throw tokenError('encryption', error);
      }
    },
    decrypt: async (keyId, ciphertext, aad) => {
      const handle = handleOf(keyId);
      if (ciphertext.length < gcmIvBytes + gcmTagBytes) throw decryptFailed(keyId);
      const iv = ciphertext.subarray(0, gcmIvBytes);
      const body = ciphertext.subarray(gcmIvBytes);
      try {
        library.C_DecryptInit(session, gcm(Buffer.from(iv), aad), handle);
        return Buffer.from(library.C_Decrypt(session, body, Buffer.alloc(body.length)));
      } catch (error) {
        const code = pkcs11Code(error);
        if (code !== undefined && authenticationFailures.has(code)) throw decryptFailed(keyId, error);
        throw tokenError('decryption', error);
      }
    },
    createKey: async () => generateKey(),
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        library.C_CloseSession(session);
      } catch {
        // The library may already be finalised by the instance that owns it.
      }
      if (ownsLibrary) library.C_Finalize();
    },
  };
}

function openSession(library: pkcs11js.PKCS11, tokenLabel: string, pin: string): Handle {
  let slots: Handle[];
  try {
    slots = library.C_GetSlotList(true);
  } catch (error) {
    throw tokenError('C_GetSlotList', error);
  }
  const labels = slots.map((slot) => library.C_GetTokenInfo(slot).label.trim());
  const index = labels.indexOf(tokenLabel);
  if (index < 0) {
    throw new VmcError(
      'unavailable',
      `no PKCS#11 token labelled "${tokenLabel}" (tokens: ${labels.filter(Boolean).join(', ') || 'none'})`,
      { reason: 'pkcs11_token_missing' },
    );
  }
  let session: Handle;
  try {
    session = library.C_OpenSession(slots[index], pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  } catch (error) {
    throw tokenError('C_OpenSession', error);
  }
  try {
    library.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (error) {
    if (pkcs11Code(error) === pkcs11js.CKR_USER_ALREADY_LOGGED_IN) return session;
    library.C_CloseSession(session);
    if (pkcs11Code(error) === pkcs11js.CKR_PIN_INCORRECT) {
      throw new VmcError('unavailable', `the PIN of PKCS#11 token "${tokenLabel}" was refused`, {
        reason: 'pkcs11_pin_incorrect',
      });
    }
    throw tokenError('C_Login', error);
  }
  return session;
}
