/**
 * The KEK file of the file provider: JSON holding versioned 256-bit keys and the current key id, mode 0600
 * inside a 0700 directory. Reads refuse a file that group or others may access; writes are atomic (a
 * temporary file renamed or linked into place), so a reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink, writeFile } from 'node:fs/promises';
import { VmcError } from '../core/errors.ts';
import { aes256KeyBytes } from './aes-gcm.ts';

export const keyFileName = 'kek.json';
const formatName = 'vmcloud-kek-file';
const formatVersion = 1;

export interface KeyFileEntry {
  id: string;
  createdAt: string;
  key: Buffer;
}

export interface KeyFileContent {
  currentKeyId: string;
  /** Oldest first. */
  keys: KeyFileEntry[];
}

function malformed(path: string, why: string): VmcError {
  return new VmcError('invalid', `key file ${path} is malformed: ${why}`, { reason: 'key_file_malformed' });
}

export function parseKeyFile(text: string, path: string): KeyFileContent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw malformed(path, 'not JSON');
  }
  const doc = raw as { format?: unknown; version?: unknown; currentKeyId?: unknown; keys?: unknown };
  if (doc?.format !== formatName || doc.version !== formatVersion) throw malformed(path, 'unknown format or version');
  if (!Array.isArray(doc.keys) || doc.keys.length === 0) throw malformed(path, 'no keys');
  const keys = doc.keys.map((entry: { id?: unknown; createdAt?: unknown; keyBase64?: unknown }) => {
    if (typeof entry?.id !== 'string' || !/^kek_[0-9a-z]+$/.test(entry.id)) throw malformed(path, 'bad key id');
    if (typeof entry.createdAt !== 'string') throw malformed(path, `key ${entry.id} has no createdAt`);
    const key = typeof entry.keyBase64 === 'string' ? Buffer.from(entry.keyBase64, 'base64') : Buffer.alloc(0);
    if (key.length !== aes256KeyBytes) throw malformed(path, `key ${entry.id} is not ${aes256KeyBytes} bytes`);
    return { id: entry.id, createdAt: entry.createdAt, key };
  });
  if (typeof doc.currentKeyId !== 'string' || !keys.some((k) => k.id === doc.currentKeyId)) {
    throw malformed(path, 'currentKeyId names no key in the file');
  }
  return { currentKeyId: doc.currentKeyId, keys };
}

export function serializeKeyFile(content: KeyFileContent): string {
  const doc = {
    format: formatName,
    version: formatVersion,
    currentKeyId: content.currentKeyId,
    keys: content.keys.map((k) => ({ id: k.id, createdAt: k.createdAt, keyBase64: k.key.toString('base64') })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Refuses any permission bit for group or others: the file holds the keys to every sealed secret. */
export function assertOwnerOnlyMode(mode: number, path: string): void {
  const loose = mode & 0o077;
  if (loose !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new VmcError(
      'invalid',
      `key file ${path} has mode ${octal}: group or others may access it. Run \`chmod 600 ${path}\` ` +
        `(and check who could have copied it), then start again.`,
      { reason: 'key_file_mode', details: { path, mode: octal } },
    );
  }
}

/** The parsed file, or null when it does not exist yet. Checks the mode of the opened file itself. */
export async function readKeyFile(path: string): Promise<KeyFileContent | null> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    assertOwnerOnlyMode((await handle.stat()).mode, path);
    return parseKeyFile(await handle.readFile('utf8'), path);
  } finally {
    await handle.close();
  }
}

async function writeTemporary(path: string, content: KeyFileContent): Promise<string> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, serializeKeyFile(content), { mode: 0o600, flag: 'wx' });
  return temporary;
}

/** Puts the first version of the file in place unless one exists; false when another process won. */
export async function createKeyFileExclusive(path: string, content: KeyFileContent): Promise<boolean> {
  const temporary = await writeTemporary(path, content);
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary);
  }
}

/** Replaces the file atomically. Call it only while holding the lock (withKeyFileLock). */
export async function replaceKeyFile(path: string, content: KeyFileContent): Promise<void> {
  const temporary = await writeTemporary(path, content);
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

/**
 * Runs `work` holding `<path>.lock` (created exclusively). A held lock is a conflict, not a wait: changing
 * the key file is a rare operator action, and a stale lock after a crash needs a human to look.
 */
export async function withKeyFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lockPath = `${path}.lock`;
  let lock;
  try {
    lock = await open(lockPath, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new VmcError(
      'conflict',
      `the key file ${path} is being changed by another process (lock ${lockPath}); ` +
        `if no vmcloud process is rotating keys, remove the lock file and retry`,
      { reason: 'key_file_locked' },
    );
  }
  try {
    await lock.writeFile(`${process.pid}\n`);
    return await work();
  } finally {
    await lock.close();
    await unlink(lockPath);
  }
}
