/**
 * A restic repository (Debian's `restic`): AES-256 encrypted, content-defined deduplication, zstd
 * compression (repository v2). The password reaches restic through a 0600 file that lives for one
 * command — never argv, never the environment of other processes.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RepositoryAccess } from './routed-executor.ts';

const run = promisify(execFile);

export interface ResticOptions {
  binary?: string;
  /** restic's cache (default: a per-repository directory under the system temp dir). */
  cacheDir?: string;
}

export interface ResticBackupSummary {
  snapshotId: string;
  /** Bytes of files restic read (unchanged files known from the parent are not read). */
  bytesProcessed: number;
  /** New bytes the repository stored (after deduplication and compression). */
  dataAddedBytes: number;
  filesNew: number;
  filesChanged: number;
  filesUnmodified: number;
}

async function withPasswordFile<T>(passwords: string[], body: (files: string[]) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-restic-'));
  try {
    const files = await Promise.all(
      passwords.map(async (password, i) => {
        const file = join(dir, `p${i}`);
        await writeFile(file, password, { mode: 0o600 });
        return file;
      }),
    );
    return await body(files);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a command whose (large) stdout is read and dropped; rejects on a non-zero exit. */
function discardOutput(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(bytes) : reject(new Error(`restic ${args[0]} exited with ${code}: ${stderr.trim()}`)),
    );
  });
}

export function createRestic(access: RepositoryAccess, options: ResticOptions = {}) {
  const binary = options.binary ?? 'restic';
  const exec = (args: string[], extraPasswords: string[] = []) =>
    withPasswordFile([access.password, ...extraPasswords], async ([file, ...extra]) => {
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        RESTIC_REPOSITORY: access.url,
        RESTIC_PASSWORD_FILE: file,
        RESTIC_CACHE_DIR: options.cacheDir ?? join(tmpdir(), 'vmc-restic-cache'),
        ...(extra[0] ? { RESTIC_FROM_PASSWORD_FILE: extra[0] } : {}),
      };
      const { stdout } = await run(binary, args, { env, maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    });

  return {
    access,
    /** Creates the repository when it does not exist (idempotent). */
    async ensure(): Promise<void> {
      try {
        await exec(['cat', 'config']);
      } catch {
        await exec(['init', '--repository-version', '2']);
      }
    },

    /**
     * Backs up `dirs` (their contents, kept by restic under their absolute paths) as one snapshot, with a
     * parent for unchanged files.
     */
    async backup(
      dirs: string | string[],
      input: { host: string; tags: string[]; parent: string | null },
    ): Promise<ResticBackupSummary> {
      const args = ['backup', '--json', '--ignore-ctime', '--host', input.host, '--compression', 'auto'];
      for (const tag of input.tags) args.push('--tag', tag);
      if (input.parent) args.push('--parent', input.parent);
      args.push(...(typeof dirs === 'string' ? [dirs] : dirs));
      const stdout = await exec(args);
      const summary = stdout
        .split('\n')
        .filter((line) => line.includes('"message_type":"summary"'))
        .map((line) => JSON.parse(line) as Record<string, number | string>)[0];
      if (!summary) throw new Error('restic backup printed no summary');
      return {
        snapshotId: String(summary.snapshot_id),
        bytesProcessed: Number(summary.total_bytes_processed),
        dataAddedBytes: Number(summary.data_added),
        filesNew: Number(summary.files_new),
        filesChanged: Number(summary.files_changed),
        filesUnmodified: Number(summary.files_unmodified),
      };
    },

    /** Copies one snapshot from `from` into this repository; returns its id here. */
    async copyFrom(from: RepositoryAccess, snapshot: string, tag: string): Promise<string> {
      await exec(['copy', '--from-repo', from.url, snapshot], [from.password]);
      const found = await this.snapshots(tag);
      if (found.length === 0) throw new Error(`restic copy left no snapshot tagged ${tag}`);
      return found[found.length - 1].id;
    },

    async snapshots(tag?: string): Promise<{ id: string; time: string; tags: string[] }[]> {
      const args = ['snapshots', '--json'];
      if (tag) args.push('--tag', tag);
      const list = JSON.parse(await exec(args)) as { id: string; time: string; tags?: string[] }[] | null;
      return (list ?? []).map((s) => ({ id: s.id, time: s.time, tags: s.tags ?? [] }));
    },

    /** The directories a snapshot was made of (the paths given to `backup`). */
    async snapshotPaths(snapshot: string): Promise<string[]> {
      const list = JSON.parse(await exec(['snapshots', '--json', snapshot])) as { paths?: string[] }[] | null;
      if (!list?.[0]) throw new Error(`restic has no snapshot ${snapshot}`);
      return list[0].paths ?? [];
    },

    /** Restores a snapshot under `targetDir` (its absolute paths kept); `only`: just these of its paths. */
    async restore(snapshot: string, targetDir: string, only: string[] = []): Promise<void> {
      await exec(['restore', snapshot, '--target', targetDir, ...only.flatMap((path) => ['--include', path])]);
    },

    /** Removes snapshots (one command, one repository lock, for any number); their data goes at the next prune. */
    async forget(snapshots: string[]): Promise<void> {
      for (let at = 0; at < snapshots.length; at += 100) await exec(['forget', ...snapshots.slice(at, at + 100)]);
    },

    /**
     * Removes data no snapshot references, so that forgotten backups really free their space. Takes the
     * repository's exclusive lock (backups into it wait: the worker runs no job on the region meanwhile).
     * `--max-unused 5%`: packs partly used are repacked only past that, which bounds the rewrite cost.
     */
    async prune(): Promise<void> {
      await exec(['prune', '--max-unused', '5%']);
    },

    /**
     * Re-reads every blob of one snapshot (its files streamed as a tar by `restic dump` to nowhere): each
     * blob is decrypted and authenticated (AES-256 + Poly1305) and its SHA-256 checked against its id. Cost:
     * the snapshot's data, not the repository's. False when any blob is missing or damaged.
     */
    async verifySnapshot(snapshot: string): Promise<boolean> {
      try {
        await withPasswordFile([access.password], ([file]) =>
          discardOutput(binary, ['dump', snapshot, '/'], {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? tmpdir(),
            RESTIC_REPOSITORY: access.url,
            RESTIC_PASSWORD_FILE: file,
            RESTIC_CACHE_DIR: options.cacheDir ?? join(tmpdir(), 'vmc-restic-cache'),
          }),
        );
        return true;
      } catch {
        return false;
      }
    },

    /** The repository's structure and a subset of its data re-read and checked (`restic check --read-data-subset`). */
    async check(subset = '10%'): Promise<boolean> {
      try {
        await exec(['check', `--read-data-subset=${subset}`]);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export type Restic = ReturnType<typeof createRestic>;
