/**
 * The default KEK provider: versioned AES-256 keys in `<directory>/kek.json` (file 0600, directory 0700),
 * created on first use. Encryption is AES-256-GCM in this process. Every instance, in this process or
 * another one on the same directory, reads the same file: the current key id is the file's, re-read on
 * each call; a key id not yet known makes it re-read the file before giving up.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import { VmcError } from '../core/errors.ts';
import { aes256KeyBytes, aesGcmDecrypt, aesGcmEncrypt } from './aes-gcm.ts';
import { nextKekId } from './kek-ids.ts';
import type { KekProvider } from './kek-provider.ts';
import {
  createKeyFileExclusive,
  keyFileName,
  readKeyFile,
  replaceKeyFile,
  withKeyFileLock,
  type KeyFileContent,
  type KeyFileEntry,
} from './key-file.ts';

export interface FileKekProviderOptions {
  /** Directory holding the key file, created with mode 0700 when missing, e.g. `<data dir>/keys`. */
  directory: string;
  clock: Clock;
}

export async function openFileKekProvider(options: FileKekProviderOptions): Promise<KekProvider> {
  const { clock } = options;
  await mkdir(options.directory, { recursive: true, mode: 0o700 });
  const path = join(options.directory, keyFileName);
  let content: KeyFileContent;
  let closed = false;

  const newEntry = (existing: readonly KeyFileEntry[]): KeyFileEntry => ({
    id: nextKekId(
      existing.map((k) => k.id),
      clock.nowMs(),
    ),
    createdAt: clock.nowIso(),
    key: randomBytes(aes256KeyBytes),
  });

  async function reload(): Promise<KeyFileContent> {
    if (closed) throw new VmcError('unavailable', 'the file key provider is closed', { reason: 'kek_provider_closed' });
    const read = await readKeyFile(path);
    if (!read) throw new VmcError('unavailable', `key file ${path} has disappeared`, { reason: 'kek_missing' });
    content = read;
    return read;
  }

  async function keyOf(keyId: string): Promise<Buffer> {
    if (closed) throw new VmcError('unavailable', 'the file key provider is closed', { reason: 'kek_provider_closed' });
    const known = content.keys.find((k) => k.id === keyId) ?? (await reload()).keys.find((k) => k.id === keyId);
    if (!known) {
      throw new VmcError('unavailable', `key ${keyId} is not in the key file ${path}`, {
        reason: 'kek_missing',
        details: { keyId },
      });
    }
    return known.key;
  }

  const existing = await readKeyFile(path);
  if (existing) content = existing;
  else {
    const first = newEntry([]);
    const initial = { currentKeyId: first.id, keys: [first] };
    content = (await createKeyFileExclusive(path, initial)) ? initial : await reload();
  }

  return {
    kind: 'file',
    currentKeyId: async () => (await reload()).currentKeyId,
    listKeyIds: async () => (await reload()).keys.map((k) => k.id),
    encrypt: async (keyId, plaintext, aad) => aesGcmEncrypt(await keyOf(keyId), plaintext, aad),
    decrypt: async (keyId, ciphertext, aad) => aesGcmDecrypt(await keyOf(keyId), ciphertext, aad, keyId),
    createKey: () =>
      withKeyFileLock(path, async () => {
        const latest = await reload();
        const entry = newEntry(latest.keys);
        const next = { currentKeyId: entry.id, keys: [...latest.keys, entry] };
        await replaceKeyFile(path, next);
        content = next;
        return entry.id;
      }),
    close: async () => {
      closed = true;
      for (const k of content.keys) k.key.fill(0);
    },
  };
}
