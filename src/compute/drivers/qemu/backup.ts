/**
 * Incremental-forever disk backups of QEMU instances into restic repositories (ADR 0007).
 *
 * - A persistent dirty bitmap (`vmc-backup`, granularity 4 MiB) on the disk's format node records what the
 *   guest wrote since the last backup; it is stored in the qcow2 when QEMU stops.
 * - A backup runs `blockdev-backup` into a scratch qcow2: `sync=full` the first time (the bitmap is added in
 *   the same QMP transaction, so no write falls between), `sync=incremental` after (QEMU copies only the
 *   dirty 4 MiB granules and, on success, starts the bitmap afresh from the job's start).
 * - The disk is presented to restic as a directory of 4 MiB chunk files (`staging/<server>/disk/c000000…`).
 *   Chunks the bitmap says are dirty are written with their new content and a new mtime; clean chunks are
 *   sparse files whose size, inode and mtime equal what restic recorded in the parent snapshot, so restic
 *   reuses their blobs without reading them (`--parent`, `--ignore-ctime`). Each restic snapshot is a
 *   complete disk: restores and prunes need no chain. After the upload the written chunks are emptied again
 *   (truncated to 0 and back, mtime restored): the staging directory costs no disk space.
 * - Anything that breaks the correspondence (no parent, another parent than the staging state, the bitmap
 *   missing or inconsistent after a QEMU crash, a stopped server, a failed upload after the bitmap was
 *   reset) makes the next backup full: read everything, the repository still deduplicates it.
 */
import { execFile } from 'node:child_process';
import { mkdir, open, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VmcError, notFound } from '../../../core/errors.ts';
import type { Clock } from '../../../core/clock.ts';
import type { BackupOutcome, HostBackupRequest, HostRestoreRequest, ResticOptions } from '../../../backups/index.ts';
import { createRestic } from '../../../backups/index.ts';
import type { Runtimes } from './instance-runtimes.ts';
import type { DiskImages, DiskKey } from './disk-images.ts';
import { readJson } from './instance-files.ts';
import type { QmpClient } from './qmp-client.ts';
import {
  blockDirtyBitmapRemove,
  blockdevAdd,
  blockdevBackup,
  blockdevDel,
  fullBackupWithNewBitmap,
  jobDismiss,
  queryJobs,
  queryNamedBlockNodes,
  type QmpDirtyBitmapInfo,
} from './qmp-commands.ts';
import { freezeGuest } from './guest-agent.ts';
import { silentLogger, type Logger } from '../../../core/log.ts';

const run = promisify(execFile);

export const backupBitmap = 'vmc-backup';
export const chunkBytes = 4 * 1024 * 1024;
const rootDiskNode = 'disk0';
const targetNode = 'vmc-backup-target';

interface StagingState {
  /** The restic snapshot the chunk files' metadata matches. */
  snapshot: string;
  diskBytes: number;
  /** The mtime (seconds) given to the chunks written by the last backup; each backup uses a new one. */
  seq: number;
  /** Chunks that have a file (the others are all zeros and have none); absent in states of older versions. */
  present?: number[];
}

/** `disk.json` beside the chunk files: a snapshot restores by it (chunk i at i × chunk_bytes; missing chunks are zeros). */
interface DiskManifest {
  format: 'vmcloud-chunks-v2';
  disk_bytes: number;
  chunk_bytes: number;
}
const manifestName = 'disk.json';

export interface QemuBackupDeps {
  runtimes: Runtimes;
  disks: DiskImages;
  clock: Clock;
  stateDir: string;
  qemuImg?: string;
  restic?: ResticOptions;
  /** Stops the instance's QEMU (restores replace the disk under a stopped instance). */
  forceOff: (serverId: string) => Promise<void>;
  /** The LUKS key of the instance's disk (null: a plain disk); a restored disk is encrypted under it again. */
  keyOf?: (serverId: string) => Promise<DiskKey>;
  log?: Logger;
  /** How long a guest agent has to answer before the backup is crash-consistent (default 2 s). */
  guestAgentSyncTimeoutMs?: number;
}

async function bitmapOf(qmp: QmpClient): Promise<QmpDirtyBitmapInfo | null> {
  const nodes = await queryNamedBlockNodes(qmp);
  const node = nodes.find((n) => n['node-name'] === rootDiskNode);
  return node?.['dirty-bitmaps']?.find((b) => b.name === backupBitmap) ?? null;
}

/** Runs a block job to its end: resolves with the bytes it copied, rejects with its error. */
async function runJob(qmp: QmpClient, jobId: string, start: () => Promise<unknown>): Promise<number> {
  let copied = 0;
  await start();
  for (;;) {
    const job = (await queryJobs(qmp)).find((j) => j.id === jobId);
    if (!job) break;
    copied = job['current-progress'];
    if (job.status === 'concluded' || job.status === 'null') {
      await jobDismiss(qmp, jobId).catch(() => {});
      if (job.error) throw new VmcError('internal', `backup job failed: ${job.error}`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return copied;
}

/**
 * Ranges of a qcow2: `present` — what a backup job wrote into it (zeros written included); `data` — what
 * holds data through its backing chain (unallocated and zero clusters left out).
 */
async function mappedRanges(
  qemuImg: string,
  path: string,
  which: 'present' | 'data',
): Promise<{ start: number; length: number }[]> {
  const { stdout } = await run(qemuImg, ['map', '-U', '--output=json', '-f', 'qcow2', path], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const entries = JSON.parse(stdout) as {
    start: number;
    length: number;
    data: boolean;
    present?: boolean;
    zero: boolean;
  }[];
  return entries
    .filter((e) => (which === 'data' ? e.data && !e.zero : (e.present ?? e.data)))
    .map((e) => ({ start: e.start, length: e.length }));
}

/** The chunks a set of byte ranges touches, in order. */
function chunksOf(ranges: { start: number; length: number }[]): number[] {
  const set = new Set<number>();
  for (const r of ranges)
    for (let i = Math.floor(r.start / chunkBytes); i * chunkBytes < r.start + r.length; i++) set.add(i);
  return [...set].sort((a, b) => a - b);
}

const isZero = (buffer: Buffer) => {
  for (let at = 0; at < buffer.length; at += 8) if (buffer.readBigUInt64LE(at) !== 0n) return false;
  return true;
};

const chunkName = (index: number) => `c${String(index).padStart(7, '0')}`;

export function createBackupOperations(deps: QemuBackupDeps) {
  const qemuImg = deps.qemuImg ?? 'qemu-img';
  const stagingOf = (serverId: string) => {
    const dir = join(deps.stateDir, 'backup-staging', serverId);
    return { dir, disk: join(dir, 'disk'), work: join(dir, 'work'), state: join(dir, 'state.json') };
  };

  const requireInstance = async (serverId: string) => {
    const paths = deps.runtimes.paths(serverId);
    if (!(await readJson(paths.specFile))) throw notFound('server', serverId);
    return paths;
  };

  /**
   * Writes the given chunks of `rawPath` into the staging files (same inodes), with mtime `seq`. A chunk of
   * zeros has no file (its file, if any, is removed). Returns the chunks written.
   */
  async function writeChunks(
    stagingDisk: string,
    rawPath: string,
    diskBytes: number,
    chunks: Iterable<number>,
    seq: number,
    present: Set<number>,
  ): Promise<number[]> {
    const source = await open(rawPath, 'r');
    const buffer = Buffer.alloc(chunkBytes);
    const written: number[] = [];
    try {
      for (const index of chunks) {
        const offset = index * chunkBytes;
        const length = Math.min(chunkBytes, diskBytes - offset);
        const { bytesRead } = await source.read(buffer, 0, length, offset);
        buffer.fill(0, bytesRead, length);
        const file = join(stagingDisk, chunkName(index));
        if (isZero(buffer.subarray(0, length))) {
          if (present.delete(index)) await rm(file, { force: true });
          continue;
        }
        const handle = await open(file, 'a+').then(async (h) => {
          await h.close();
          return open(file, 'r+');
        });
        try {
          await handle.truncate(length);
          await handle.write(buffer, 0, length, 0);
        } finally {
          await handle.close();
        }
        await utimes(file, seq, seq);
        present.add(index);
        written.push(index);
      }
    } finally {
      await source.close();
    }
    return written;
  }

  /** Empties the written chunks again (a hole of the same size, same inode, same mtime). */
  async function emptyChunks(stagingDisk: string, diskBytes: number, chunks: Iterable<number>, seq: number) {
    for (const index of chunks) {
      const file = join(stagingDisk, chunkName(index));
      const length = Math.min(chunkBytes, diskBytes - index * chunkBytes);
      await truncate(file, 0);
      await truncate(file, length);
      await utimes(file, seq, seq);
    }
  }

  async function resetStaging(serverId: string) {
    await rm(stagingOf(serverId).dir, { recursive: true, force: true });
  }

  async function backup(serverId: string, request: HostBackupRequest): Promise<BackupOutcome> {
    const paths = await requireInstance(serverId);
    const staging = stagingOf(serverId);
    const startedAtMs = deps.clock.nowMs();
    const info = await deps.disks.info(paths.disk, { format: 'qcow2', forceShare: true });
    const diskBytes = info['virtual-size'];
    const state = await readJson<StagingState>(staging.state);
    const local = createRestic(request.local, deps.restic);
    await local.ensure();

    const runtime = await deps.runtimes.attach(serverId);
    const bitmap = runtime ? await bitmapOf(runtime.qmp) : null;
    const incremental =
      runtime !== null &&
      request.parentSnapshot !== null &&
      state?.snapshot === request.parentSnapshot &&
      state.diskBytes === diskBytes &&
      Array.isArray(state.present) &&
      bitmap !== null &&
      !bitmap.inconsistent &&
      !bitmap.busy;
    if (!incremental) {
      await resetStaging(serverId);
      if (runtime && bitmap) await blockDirtyBitmapRemove(runtime.qmp, rootDiskNode, backupBitmap);
    }
    const present = new Set<number>(incremental ? state.present : []);
    await mkdir(staging.disk, { recursive: true });
    await rm(staging.work, { recursive: true, force: true });
    await mkdir(staging.work, { recursive: true });
    const seq = Math.max((state?.seq ?? 1_000_000_000) + 1, Math.floor(startedAtMs / 1000));
    const raw = join(staging.work, 'dirty.raw');
    let readBytes: number;
    let dirty: number[];
    let takenAtMs = deps.clock.nowMs();
    let consistency: 'crash' | 'application' = 'crash';
    try {
      if (incremental) {
        // Clean chunks are reused from the parent by their metadata: their files must all be there.
        const files = new Set(await readdir(staging.disk));
        if ([...present].some((index) => !files.has(chunkName(index))))
          throw new VmcError('internal', 'the staging directory lost chunks: the next backup is full');
      }
      if (runtime) {
        // Push-mode backup into a scratch qcow2 the size of the disk.
        const target = join(staging.work, 'target.qcow2');
        await run(qemuImg, ['create', '-q', '-f', 'qcow2', target, String(diskBytes)]);
        await blockdevAdd(runtime.qmp, {
          'node-name': targetNode,
          driver: 'qcow2',
          file: { driver: 'file', filename: target },
        });
        try {
          const jobId = `vmc-backup-${request.backupId}`;
          const startJob = () =>
            incremental
              ? blockdevBackup(runtime.qmp, {
                  'job-id': jobId,
                  device: rootDiskNode,
                  target: targetNode,
                  sync: 'incremental',
                  bitmap: backupBitmap,
                  'bitmap-mode': 'on-success',
                  'auto-dismiss': false,
                })
              : fullBackupWithNewBitmap(
                  runtime.qmp,
                  { node: rootDiskNode, name: backupBitmap, granularity: chunkBytes },
                  { 'job-id': jobId, device: rootDiskNode, target: targetNode, sync: 'full', 'auto-dismiss': false },
                );
          readBytes = await runJob(runtime.qmp, jobId, async () => {
            // The job's point in time is its start (copy-before-write): the guest's filesystems are frozen
            // around the start only, when a guest agent answers; otherwise the backup is crash-consistent.
            const frozen = await freezeGuest(paths.guestAgentSocket, deps.log ?? silentLogger, serverId, {
              syncTimeoutMs: deps.guestAgentSyncTimeoutMs,
            });
            try {
              takenAtMs = deps.clock.nowMs();
              await startJob();
              if (frozen) consistency = 'application';
            } finally {
              if (frozen) await frozen.thaw();
            }
          });
        } finally {
          await blockdevDel(runtime.qmp, targetNode).catch(() => {});
        }
        // A first backup reads the chunks holding data (the rest are zeros); an incremental, those the job wrote.
        dirty = chunksOf(await mappedRanges(qemuImg, target, incremental ? 'present' : 'data'));
        // Only the scratch image's allocated clusters are read here: it holds what the job copied.
        await run(qemuImg, ['convert', '-f', 'qcow2', '-O', 'raw', '-S', '64k', target, raw]);
        await rm(target, { force: true });
      } else {
        // A stopped server: read what holds data (its base image included); the rest is zeros.
        takenAtMs = deps.clock.nowMs();
        const key = (await deps.keyOf?.(serverId)) ?? null;
        // An encrypted disk's map needs its key: read all of it instead (a full read, still correct).
        const ranges =
          key === null ? await mappedRanges(qemuImg, paths.disk, 'data') : [{ start: 0, length: diskBytes }];
        await deps.disks.convert(paths.disk, raw, { format: 'raw', forceShare: true, key });
        readBytes = ranges.reduce((sum, r) => sum + r.length, 0);
        dirty = chunksOf(ranges);
        // The persistent bitmap (if any) no longer matches the staging state: it goes with the state.
        await run(qemuImg, ['bitmap', '--remove', paths.disk, backupBitmap]).catch(() => {});
      }
      const written = await writeChunks(staging.disk, raw, diskBytes, dirty, seq, present);
      await writeFile(
        join(staging.disk, manifestName),
        JSON.stringify({
          format: 'vmcloud-chunks-v2',
          disk_bytes: diskBytes,
          chunk_bytes: chunkBytes,
        } satisfies DiskManifest),
      );
      const summary = await local.backup(staging.disk, {
        host: serverId,
        tags: [request.backupId, `server:${serverId}`],
        parent: incremental ? request.parentSnapshot : null,
      });
      await emptyChunks(staging.disk, diskBytes, written, seq);
      await writeFile(
        staging.state,
        JSON.stringify({
          snapshot: summary.snapshotId,
          diskBytes,
          seq,
          present: [...present].sort((x, y) => x - y),
        } satisfies StagingState),
      );
      let remoteSnapshot: string | null = null;
      if (request.remote) {
        const remote = createRestic(request.remote, deps.restic);
        await remote.ensure();
        remoteSnapshot = await remote.copyFrom(request.local, summary.snapshotId, request.backupId);
      }
      return {
        kind: incremental ? 'incremental' : 'full',
        consistency,
        diskBytes,
        readBytes,
        storedBytes: summary.dataAddedBytes,
        durationMs: deps.clock.nowMs() - startedAtMs,
        takenAtMs,
        localSnapshot: summary.snapshotId,
        remoteSnapshot,
      };
    } catch (error) {
      // The bitmap may have been reset by a successful job whose upload failed: start over with a full one.
      await resetStaging(serverId);
      const again = await deps.runtimes.attach(serverId).catch(() => null);
      if (again) await blockDirtyBitmapRemove(again.qmp, rootDiskNode, backupBitmap).catch(() => {});
      throw error;
    } finally {
      await rm(staging.work, { recursive: true, force: true });
    }
  }

  /**
   * Writes a snapshot's disk into a new qcow2 at `destination` (LUKS under `key` when given): `restic
   * restore` of its chunks, the raw disk assembled by `disk.json`, then imported. A volume made from a backup.
   */
  async function restoreInto(request: HostRestoreRequest, destination: string, key: DiskKey): Promise<void> {
    const work = join(deps.stateDir, 'backup-restores', request.restoreId);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      const restic = createRestic(request.repository, deps.restic);
      await restic.restore(request.snapshot, work);
      const raw = join(work, 'disk.raw');
      await assembleRaw(await findChunkDir(work), raw);
      await deps.disks.importRaw(raw, destination, key);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Replaces the instance's disk with a snapshot's content; stops QEMU first (the agent starts it again). */
  async function restore(serverId: string, request: HostRestoreRequest): Promise<{ durationMs: number }> {
    const paths = await requireInstance(serverId);
    const startedAtMs = deps.clock.nowMs();
    const work = join(deps.stateDir, 'backup-restores', request.restoreId);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      const restic = createRestic(request.repository, deps.restic);
      await restic.restore(request.snapshot, work);
      // restic restores the absolute path it backed up: find the chunk directory under `work`.
      const chunkDir = await findChunkDir(work);
      const raw = join(work, 'disk.raw');
      await assembleRaw(chunkDir, raw);
      await deps.forceOff(serverId);
      const next = `${paths.disk}.restoring`;
      await deps.disks.importRaw(raw, next, (await deps.keyOf?.(serverId)) ?? null);
      await rm(paths.disk, { force: true });
      await (await import('node:fs/promises')).rename(next, paths.disk);
      // The new disk has no bitmap: the next backup of this server is full.
      await resetStaging(serverId);
      return { durationMs: deps.clock.nowMs() - startedAtMs };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  return { backup, restore, restoreInto, stagingOf };
}

/**
 * Writes the raw disk of a restored snapshot: with `disk.json`, chunk i at i × chunk_bytes (a missing chunk
 * is zeros); a snapshot of the first format (no manifest, every chunk present) end to end. Sparse: all-zero
 * 64 KiB blocks are skipped.
 */
async function assembleRaw(chunkDir: string, raw: string): Promise<void> {
  const manifest = await readJson<DiskManifest>(join(chunkDir, manifestName));
  if (manifest && manifest.format !== 'vmcloud-chunks-v2')
    throw new VmcError('internal', `the snapshot's disk format ${String(manifest.format)} is unknown`);
  const names = (await readdir(chunkDir)).filter((n) => /^c\d{7}$/.test(n)).sort();
  const out = await open(raw, 'w');
  const zero = Buffer.alloc(64 * 1024);
  try {
    let offset = 0;
    for (const name of names) {
      if (manifest) offset = Number(name.slice(1)) * manifest.chunk_bytes;
      const chunk = await open(join(chunkDir, name), 'r');
      try {
        const { size } = await chunk.stat();
        const buffer = Buffer.alloc(size);
        await chunk.read(buffer, 0, size, 0);
        for (let at = 0; at < size; at += zero.length) {
          const block = buffer.subarray(at, Math.min(size, at + zero.length));
          if (!block.equals(zero.subarray(0, block.length))) await out.write(block, 0, block.length, offset + at);
        }
        offset += size;
      } finally {
        await chunk.close();
      }
    }
    await out.truncate(manifest ? manifest.disk_bytes : offset);
  } finally {
    await out.close();
  }
}

async function findChunkDir(root: string): Promise<string> {
  const entries = await readdir(root, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && (/^c\d{7}$/.test(e.name) || e.name === manifestName))) return root;
  for (const e of entries)
    if (e.isDirectory()) {
      const found = await findChunkDir(join(root, e.name)).catch(() => null);
      if (found) return found;
    }
  throw new VmcError('internal', 'the restored snapshot holds no disk chunks');
}

export const stagingBytes = async (dir: string) => (await stat(dir)).size;
