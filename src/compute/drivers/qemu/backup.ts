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
  backupTransaction,
  blockDirtyBitmapRemove,
  blockdevAdd,
  blockdevDel,
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

/** What the staging of one disk holds: the chunk files' size and which chunks have a file. */
interface DiskStagingState {
  diskBytes: number;
  /** Chunks that have a file (the others are all zeros and have none). */
  present: number[];
}

interface StagingState {
  /** The restic snapshot the chunk files' metadata matches. */
  snapshot: string;
  /** The mtime (seconds) given to the chunks written by the last backup; each backup uses a new one. */
  seq: number;
  /** The server's own disk (kept at the top level: states of older versions have only it). */
  diskBytes: number;
  present?: number[];
  /** Attached volumes, by volume id. */
  volumes?: Record<string, DiskStagingState>;
}

/** `disk.json` beside the chunk files: a snapshot restores by it (chunk i at i × chunk_bytes; missing chunks are zeros). */
interface DiskManifest {
  format: 'vmcloud-chunks-v2';
  disk_bytes: number;
  chunk_bytes: number;
}
const manifestName = 'disk.json';

/** A volume attached to the instance, as a backup reads it. */
export interface BackupVolumeSource {
  volumeId: string;
  /** The format node the guest's device uses (where the volume's dirty bitmap lives). */
  node: string;
  /** Its qcow2 file (a stopped server's volume is read from it); null: a backend with no file. */
  file: string | null;
  /** Its LUKS key (null: a plain volume; undefined: not known yet, needed only while its server is stopped). */
  key: DiskKey | undefined;
  sizeBytes: number;
}

/** One disk of a backup: the server's own (`part` = `disk`) or a volume (`part` = its id). */
interface BackupDisk {
  part: string;
  node: string;
  file: string | null;
  key: DiskKey | undefined;
  diskBytes: number;
  /** Its chunk directory in the staging tree (`disk/`, `volumes/<id>/`), which is also its path in the snapshot. */
  stagingDir: string;
  previous: DiskStagingState | null;
}

/** What a backup did with one disk. */
interface DiskResult {
  disk: BackupDisk;
  kind: 'full' | 'incremental';
  readBytes: number;
  present: Set<number>;
  written: number[];
}

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
  /** The volumes attached to the instance: a backup reads them with its disk, at the same point in time. */
  volumesOf?: (serverId: string) => Promise<BackupVolumeSource[]>;
  log?: Logger;
  /** How long a guest agent has to answer before the backup is crash-consistent (default 2 s). */
  guestAgentSyncTimeoutMs?: number;
}

async function bitmapOf(qmp: QmpClient, node: string): Promise<QmpDirtyBitmapInfo | null> {
  const nodes = await queryNamedBlockNodes(qmp);
  return nodes.find((n) => n['node-name'] === node)?.['dirty-bitmaps']?.find((b) => b.name === backupBitmap) ?? null;
}

/** Runs block jobs to their end: resolves with the bytes each copied, rejects with the first error. */
async function runJobs(qmp: QmpClient, jobIds: string[], start: () => Promise<unknown>): Promise<Map<string, number>> {
  const copied = new Map<string, number>(jobIds.map((id) => [id, 0]));
  const open = new Set(jobIds);
  let failure: string | null = null;
  await start();
  while (open.size > 0) {
    const jobs = await queryJobs(qmp);
    for (const id of [...open]) {
      const job = jobs.find((j) => j.id === id);
      if (!job) {
        open.delete(id);
        continue;
      }
      copied.set(id, job['current-progress']);
      if (job.status === 'concluded' || job.status === 'null') {
        await jobDismiss(qmp, id).catch(() => {});
        if (job.error) failure ??= job.error;
        open.delete(id);
      }
    }
    if (open.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (failure) throw new VmcError('internal', `backup job failed: ${failure}`);
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
    return {
      dir,
      disk: join(dir, 'disk'),
      volumes: join(dir, 'volumes'),
      work: join(dir, 'work'),
      state: join(dir, 'state.json'),
    };
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

  /** The server's disk and its attached volumes, each with what its staging holds from the last backup. */
  async function disksOf(serverId: string, state: StagingState | null): Promise<BackupDisk[]> {
    const paths = deps.runtimes.paths(serverId);
    const staging = stagingOf(serverId);
    const info = await deps.disks.info(paths.disk, { format: 'qcow2', forceShare: true });
    const root: BackupDisk = {
      part: 'disk',
      node: rootDiskNode,
      file: paths.disk,
      key: (await deps.keyOf?.(serverId)) ?? null,
      diskBytes: info['virtual-size'],
      stagingDir: staging.disk,
      previous: state && Array.isArray(state.present) ? { diskBytes: state.diskBytes, present: state.present } : null,
    };
    const volumes = (await deps.volumesOf?.(serverId)) ?? [];
    return [
      root,
      ...volumes.map((v) => ({
        part: v.volumeId,
        node: v.node,
        file: v.file,
        key: v.key,
        diskBytes: v.sizeBytes,
        stagingDir: join(staging.volumes, v.volumeId),
        previous: state?.volumes?.[v.volumeId] ?? null,
      })),
    ];
  }

  /** Removes every disk's dirty bitmap (after a failure: the next backup of each disk is full). */
  async function dropBitmaps(serverId: string, disks: BackupDisk[]) {
    const runtime = await deps.runtimes.attach(serverId).catch(() => null);
    if (runtime)
      for (const disk of disks) await blockDirtyBitmapRemove(runtime.qmp, disk.node, backupBitmap).catch(() => {});
  }

  /**
   * Backs up the server's disk and its attached volumes as one restic snapshot (`disk/`, `volumes/<id>/`),
   * all read at the same point in time. Each disk is incremental on its own when its bitmap and staging
   * still match the parent snapshot (a newly attached volume is read in full, the others stay incremental).
   */
  async function backup(serverId: string, request: HostBackupRequest): Promise<BackupOutcome> {
    const paths = await requireInstance(serverId);
    const staging = stagingOf(serverId);
    const startedAtMs = deps.clock.nowMs();
    const state = await readJson<StagingState>(staging.state);
    const local = createRestic(request.local, deps.restic);
    await local.ensure();
    const disks = await disksOf(serverId, state);

    const runtime = await deps.runtimes.attach(serverId);
    const chained = runtime !== null && request.parentSnapshot !== null && state?.snapshot === request.parentSnapshot;
    const incrementalOf = new Map<string, boolean>();
    for (const disk of disks) {
      const bitmap = runtime ? await bitmapOf(runtime.qmp, disk.node) : null;
      const incremental =
        chained &&
        disk.previous !== null &&
        disk.previous.diskBytes === disk.diskBytes &&
        bitmap !== null &&
        !bitmap.inconsistent &&
        !bitmap.busy;
      incrementalOf.set(disk.part, incremental);
      if (!incremental) {
        await rm(disk.stagingDir, { recursive: true, force: true });
        if (runtime && bitmap) await blockDirtyBitmapRemove(runtime.qmp, disk.node, backupBitmap);
      }
    }
    // Volumes detached since the last backup leave the staging tree (and so the next snapshot).
    const attached = new Set(disks.map((d) => d.part));
    for (const name of await readdir(staging.volumes).catch(() => [] as string[]))
      if (!attached.has(name)) await rm(join(staging.volumes, name), { recursive: true, force: true });
    for (const disk of disks) await mkdir(disk.stagingDir, { recursive: true });
    await rm(staging.work, { recursive: true, force: true });
    await mkdir(staging.work, { recursive: true });
    const seq = Math.max((state?.seq ?? 1_000_000_000) + 1, Math.floor(startedAtMs / 1000));
    let takenAtMs = deps.clock.nowMs();
    let consistency: 'crash' | 'application' = 'crash';
    try {
      const results: DiskResult[] = disks.map((disk) => ({
        disk,
        kind: incrementalOf.get(disk.part) ? 'incremental' : 'full',
        readBytes: 0,
        present: new Set<number>(incrementalOf.get(disk.part) ? disk.previous!.present : []),
        written: [],
      }));
      for (const result of results) {
        if (result.kind !== 'incremental') continue;
        // Clean chunks are reused from the parent by their metadata: their files must all be there.
        const files = new Set(await readdir(result.disk.stagingDir));
        if ([...result.present].some((index) => !files.has(chunkName(index))))
          throw new VmcError('internal', 'the staging directory lost chunks: the next backup is full');
      }
      if (runtime) {
        // Push-mode backups into scratch qcow2s the size of each disk, started in one transaction.
        const jobs = results.map((result, i) => ({
          result,
          jobId: `vmc-backup-${request.backupId}-${i}`,
          target: join(staging.work, `target-${i}.qcow2`),
          targetNode: `${targetNode}-${i}`,
        }));
        for (const job of jobs) {
          await run(qemuImg, ['create', '-q', '-f', 'qcow2', job.target, String(job.result.disk.diskBytes)]);
          await blockdevAdd(runtime.qmp, {
            'node-name': job.targetNode,
            driver: 'qcow2',
            file: { driver: 'file', filename: job.target },
          });
        }
        try {
          const start = () =>
            backupTransaction(
              runtime.qmp,
              jobs.map(({ result, jobId, targetNode: target }) =>
                result.kind === 'incremental'
                  ? {
                      job: {
                        'job-id': jobId,
                        device: result.disk.node,
                        target,
                        sync: 'incremental',
                        bitmap: backupBitmap,
                        'bitmap-mode': 'on-success',
                        'auto-dismiss': false,
                      },
                    }
                  : {
                      job: { 'job-id': jobId, device: result.disk.node, target, sync: 'full', 'auto-dismiss': false },
                      newBitmap: { node: result.disk.node, name: backupBitmap, granularity: chunkBytes },
                    },
              ),
            );
          const copied = await runJobs(
            runtime.qmp,
            jobs.map((j) => j.jobId),
            async () => {
              // The jobs' point in time is their start (copy-before-write): the guest's filesystems are frozen
              // around the start only, when a guest agent answers; otherwise the backup is crash-consistent.
              const frozen = await freezeGuest(paths.guestAgentSocket, deps.log ?? silentLogger, serverId, {
                syncTimeoutMs: deps.guestAgentSyncTimeoutMs,
              });
              try {
                takenAtMs = deps.clock.nowMs();
                await start();
                if (frozen) consistency = 'application';
              } finally {
                if (frozen) await frozen.thaw();
              }
            },
          );
          for (const job of jobs) job.result.readBytes = copied.get(job.jobId) ?? 0;
        } finally {
          for (const job of jobs) await blockdevDel(runtime.qmp, job.targetNode).catch(() => {});
        }
        for (const { result, target } of jobs) {
          // A first backup reads the chunks holding data (the rest are zeros); an incremental, those the job wrote.
          const dirty = chunksOf(
            await mappedRanges(qemuImg, target, result.kind === 'incremental' ? 'present' : 'data'),
          );
          // Only the scratch image's allocated clusters are read here: it holds what the job copied.
          const raw = join(staging.work, 'dirty.raw');
          await run(qemuImg, ['convert', '-f', 'qcow2', '-O', 'raw', '-S', '64k', target, raw]);
          await rm(target, { force: true });
          result.written = await writeChunks(
            result.disk.stagingDir,
            raw,
            result.disk.diskBytes,
            dirty,
            seq,
            result.present,
          );
          await rm(raw, { force: true });
        }
      } else {
        // A stopped server: read what holds data (its base image included); the rest is zeros.
        takenAtMs = deps.clock.nowMs();
        for (const result of results) {
          const { disk } = result;
          if (disk.file === null)
            throw new VmcError('conflict', `volume ${disk.part} can be backed up only while its server runs`, {
              reason: 'server_not_running',
            });
          if (disk.key === undefined)
            throw new VmcError(
              'unavailable',
              `the key of volume ${disk.part} has not reached this host yet; try again`,
              {
                reason: 'volume_key_unknown',
              },
            );
          // An encrypted disk's map needs its key: read all of it instead (a full read, still correct).
          const ranges =
            disk.key === null ? await mappedRanges(qemuImg, disk.file, 'data') : [{ start: 0, length: disk.diskBytes }];
          const raw = join(staging.work, 'disk.raw');
          await deps.disks.convert(disk.file, raw, { format: 'raw', forceShare: true, key: disk.key });
          result.readBytes = ranges.reduce((sum, r) => sum + r.length, 0);
          result.written = await writeChunks(
            disk.stagingDir,
            raw,
            disk.diskBytes,
            chunksOf(ranges),
            seq,
            result.present,
          );
          await rm(raw, { force: true });
          // The persistent bitmap (if any) no longer matches the staging state: it goes with the state.
          await run(qemuImg, ['bitmap', '--remove', disk.file, backupBitmap]).catch(() => {});
        }
      }
      for (const { disk } of results)
        await writeFile(
          join(disk.stagingDir, manifestName),
          JSON.stringify({
            format: 'vmcloud-chunks-v2',
            disk_bytes: disk.diskBytes,
            chunk_bytes: chunkBytes,
          } satisfies DiskManifest),
        );
      const anyIncremental = results.some((r) => r.kind === 'incremental');
      const summary = await local.backup(
        results.map((r) => r.disk.stagingDir),
        {
          host: serverId,
          tags: [request.backupId, `server:${serverId}`],
          parent: anyIncremental ? request.parentSnapshot : null,
        },
      );
      for (const { disk, written } of results) await emptyChunks(disk.stagingDir, disk.diskBytes, written, seq);
      const [root, ...volumes] = results;
      const sorted = (present: Set<number>) => [...present].sort((x, y) => x - y);
      await writeFile(
        staging.state,
        JSON.stringify({
          snapshot: summary.snapshotId,
          seq,
          diskBytes: root.disk.diskBytes,
          present: sorted(root.present),
          volumes: Object.fromEntries(
            volumes.map((v) => [v.disk.part, { diskBytes: v.disk.diskBytes, present: sorted(v.present) }]),
          ),
        } satisfies StagingState),
      );
      let remoteSnapshot: string | null = null;
      if (request.remote) {
        const remote = createRestic(request.remote, deps.restic);
        await remote.ensure();
        remoteSnapshot = await remote.copyFrom(request.local, summary.snapshotId, request.backupId);
      }
      return {
        kind: root.kind,
        consistency,
        diskBytes: root.disk.diskBytes,
        readBytes: root.readBytes,
        storedBytes: summary.dataAddedBytes,
        durationMs: deps.clock.nowMs() - startedAtMs,
        takenAtMs,
        localSnapshot: summary.snapshotId,
        remoteSnapshot,
        volumes: volumes.map((v) => ({
          volumeId: v.disk.part,
          kind: v.kind,
          diskBytes: v.disk.diskBytes,
          readBytes: v.readBytes,
        })),
      };
    } catch (error) {
      // A bitmap may have been reset by a successful job whose upload failed: start over with full ones.
      await resetStaging(serverId);
      await dropBitmaps(serverId, disks);
      throw error;
    } finally {
      await rm(staging.work, { recursive: true, force: true });
    }
  }

  /**
   * Restores one part of a snapshot (`disk`, or a volume's id) into `work` and assembles its raw disk at
   * `raw`: only that part's directory is read from the repository.
   */
  async function restorePart(request: HostRestoreRequest, work: string, raw: string): Promise<void> {
    const restic = createRestic(request.repository, deps.restic);
    const part = request.part ?? 'disk';
    const paths = await restic.snapshotPaths(request.snapshot);
    // Snapshots of one disk (older versions) hold a single path, the server's disk.
    const path =
      paths.length === 1 && part === 'disk'
        ? paths[0]
        : paths.find((p) => (part === 'disk' ? /\/disk$/.test(p) : p.endsWith(`/volumes/${part}`)));
    if (!path)
      throw new VmcError('not_found', `the backup holds no ${part === 'disk' ? 'server disk' : `volume ${part}`}`, {
        reason: 'backup_part_missing',
      });
    await restic.restore(request.snapshot, work, [path]);
    await assembleRaw(await findChunkDir(work), raw);
  }

  /**
   * Writes a snapshot's disk, or one of its volumes (`request.part`), into a new qcow2 at `destination` (LUKS
   * under `key` when given): `restic restore` of its chunks, the raw disk assembled by `disk.json`, then
   * imported. A volume made from a backup.
   */
  async function restoreInto(request: HostRestoreRequest, destination: string, key: DiskKey): Promise<void> {
    const work = join(deps.stateDir, 'backup-restores', request.restoreId);
    await rm(work, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    try {
      const raw = join(work, 'disk.raw');
      await restorePart(request, join(work, 'tree'), raw);
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
      const raw = join(work, 'disk.raw');
      await restorePart({ ...request, part: null }, join(work, 'tree'), raw);
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
