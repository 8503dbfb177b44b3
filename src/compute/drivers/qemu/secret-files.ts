/**
 * Disk keys reach QEMU and qemu-img as `secret` objects read from a file: a 0600 file in a 0700
 * directory on tmpfs (`/dev/shm` when there is one, so a key never reaches a disk), written just before the
 * process starts and deleted as soon as it has read it (qemu-img: when it exits; QEMU: once its monitor
 * answers, which it does only after every `-object` was created). Keys are never in argv or logs: the
 * command line names the file. (A pipe on fd 3 would need a real pipe; Node hands children socketpairs,
 * which `/dev/fd/N` cannot open.)
 *
 * Each driver has its own directory (one per state directory): a driver starting sweeps it, so a key file
 * left by an agent killed between writing it and QEMU reading it does not outlive the next start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SecretFile {
  path: string;
  remove(): Promise<void>;
}

/**
 * `/dev/shm/vmcloud-secrets-<uid>/<hash of stateDir>` when /dev/shm exists (RAM), otherwise
 * `<stateDir>/secrets`.
 */
export function defaultSecretsDir(stateDir: string): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const own = createHash('sha256').update(stateDir).digest('hex').slice(0, 16);
  return existsSync('/dev/shm') ? join('/dev/shm', `vmcloud-secrets-${uid}`, own) : join(stateDir, 'secrets');
}

/** Removes every key file left in `dir` (by a process killed before it could delete its own). */
export function sweepSecretFiles(dir: string): number {
  let removed = 0;
  for (const name of (() => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  })()) {
    if (!name.endsWith('.key')) continue;
    rmSync(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

export async function writeSecretFile(dir: string, value: string): Promise<SecretFile> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${randomBytes(12).toString('hex')}.key`);
  await writeFile(path, value, { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(path, { force: true }) };
}
