/**
 * Backups: policies, on-demand and scheduled backups, restores, pruning, verification and the RPO/RTO
 * measured. Requests write rows (desired state); the worker (`runOnce`, one replica at a time under a
 * fenced lease, see src/app.ts) turns due schedules into backups, runs them on the server's host through
 * the executor, prunes by the policy and verifies. Every state change writes its event in its transaction.
 *
 * Order of effects: a copy is marked gone in the database before it is forgotten in the repository, so
 * every listed backup is restorable; a crash in between leaves an unreferenced snapshot, never a listed
 * backup without data.
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { conflict, newId, notFound, VmcError, type Clock, type Logger, pageLimitOf } from '../core/index.ts';
import type { EventRecorder, EventInput } from '../events/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import type {
  Backup,
  BackupPolicy,
  BackupStats,
  Event,
  EventPayloads,
  ListBackupsQuery,
  Restore,
  RestoreBackupBody,
  SetBackupPolicyBody,
} from '../contract/index.ts';
import { createBackupStore, type BackupRecord, type PolicyRecord, type RestoreRecord } from './store.ts';
import { effectivePolicy, retentionOf, type EffectivePolicy } from './policy.ts';
import { nextRunMs } from './schedule.ts';
import { planPrune } from './prune.ts';
import { backupView, percentile, policyView, restoreView } from './views.ts';
import type { BackupExecutor } from './executor.ts';
import { createRepositoryGuard } from './repository-guard.ts';

/** What the backups domain needs to know of a server (from compute, wired in src/app.ts). */
export interface BackupServerInfo {
  id: string;
  name: string;
  projectId: string;
  region: string;
  product: string;
  image: string;
  hostId: string | null;
  status: string;
  diskBytes: number;
}

export interface BackupServers {
  /** A live server, whatever its project; null when deleted or unknown. */
  current(serverId: string): Promise<BackupServerInfo | null>;
  /** Creates the server a restore to a new server fills (as the principal who asked). */
  create(
    principal: Principal,
    input: { name: string; region: string; product: string; image: string },
  ): Promise<{ serverId: string }>;
  /** Deletes a server `create` made when the restore could not be recorded after all (as the principal). */
  remove(principal: Principal, serverId: string): Promise<void>;
}

/** What the backups domain needs of volumes (the volumes domain, wired in src/app.ts). */
export interface BackupVolumes {
  /** The volumes attached to a server now: a backup of it reads them too. */
  attachedTo(serverId: string): Promise<{ volumeId: string; name: string; sizeGiB: number }[]>;
  /** Names of live volumes of the project (a restore to a new server picks free names for the volumes it makes). */
  namesTaken(projectId: string, names: readonly string[]): Promise<Set<string>>;
  /**
   * Makes a volume from one volume of a backup, on the server's host and attached to it (a restore to a new
   * server), in the caller's transaction; returns its id.
   */
  restoreFor(
    tx: Tx,
    hooks: TxHooks,
    input: {
      projectId: string;
      name: string;
      sizeGiB: number;
      server: { id: string; hostId: string; region: string };
      backupId: string;
      backupVolumeId: string;
      repositoryRegion: string;
      repositorySnapshot: string;
    },
  ): Promise<string>;
}

export interface BackupServiceDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  servers: BackupServers;
  executor: BackupExecutor;
  regionExists: (code: string) => Promise<boolean>;
  /** Backups and restores running at once in this replica (default 8). */
  concurrency?: number;
  /** A backup or restore running longer than this (a replica died under it) fails (default 6 h). */
  jobTimeoutMs?: number;
  /** Backups verified per pass (default 2). */
  verifyPerPass?: number;
  /** Re-verify a backup after this long (default 7 days). */
  reverifyAfterMs?: number;
  /** A repository where snapshots were forgotten is pruned at most this often (default 24 h). */
  repositoryPruneIntervalMs?: number;
  /** The volume being filled from a backup now (its host has not made it yet), or null (the volumes domain). */
  volumeFillingFrom?: (tx: Tx, backupId: string) => Promise<string | null>;
  /** Volumes: backed up with their server, recreated by a restore to a new server; absent: disks only. */
  volumes?: BackupVolumes;
}

/** The seed's promises. */
export const promisedRpoS = 6 * 3600;
export const promisedRtoS = 3600;

type BackupEventType = Extract<keyof EventPayloads, `backup.${string}` | `restore.${string}`>;

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^bkp_[0-9a-z]{26}$/.test(id))
    throw new VmcError('invalid', 'cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

export function createBackupService(deps: BackupServiceDeps) {
  const { db, clock, log } = deps;
  const store = createBackupStore(deps.dialect);
  const concurrency = deps.concurrency ?? 8;
  const jobTimeoutMs = deps.jobTimeoutMs ?? 6 * 3600_000;
  const inFlight = new Map<string, Promise<void>>();
  const repositories = createRepositoryGuard({
    nowMs: () => clock.nowMs(),
    pruneIntervalMs: deps.repositoryPruneIntervalMs ?? 24 * 3600_000,
  });

  const record = <T extends BackupEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    subject: { projectId: string; resourceType: 'backup' | 'restore' | 'server' | 'project'; resourceId: string },
    data: EventPayloads[T],
  ) => deps.events.record(tx, hooks, { type, ...subject, data } as EventInput<T>);

  async function policyFor(
    q: Tx | Db,
    server: { id: string; projectId: string; region: string },
  ): Promise<EffectivePolicy> {
    const found = await store.policies(q, [server.id, server.projectId]);
    return effectivePolicy(server, found.get(server.id), found.get(server.projectId));
  }

  async function requireServer(principal: Principal, serverId: string, role: 'viewer' | 'member') {
    const caller = requireProject(principal, role);
    const server = await deps.servers.current(serverId);
    if (!server || server.projectId !== caller.projectId) throw notFound('server', serverId);
    return { caller, server };
  }

  async function requireBackup(q: Tx | Db, projectId: string, backupId: string): Promise<BackupRecord> {
    const backup = await store.backup(q, backupId);
    if (!backup || backup.projectId !== projectId || backup.deletedAt) throw notFound('backup', backupId);
    return backup;
  }

  async function validatePolicyBody(body: SetBackupPolicyBody, base: EffectivePolicy, region: string | null) {
    if (body.remote_region) {
      const remote = body.remote_region.toLowerCase();
      if (!(await deps.regionExists(remote)))
        throw new VmcError('invalid', `region ${remote} does not exist`, {
          fields: [{ field: 'remote_region', message: 'unknown region' }],
        });
      if (region && remote === region)
        throw new VmcError('invalid', 'the remote copy must go to another region than the server’s', {
          fields: [{ field: 'remote_region', message: 'same region as the server' }],
        });
    }
    const merged = {
      everyMinutes: body.every_minutes ?? base.everyMinutes,
      keepLast: body.keep_last ?? base.keepLast,
      keepHourly: body.keep_hourly ?? base.keepHourly,
      keepDaily: body.keep_daily ?? base.keepDaily,
      keepWeekly: body.keep_weekly ?? base.keepWeekly,
      keepMonthly: body.keep_monthly ?? base.keepMonthly,
      remoteRegion: body.remote_region === undefined ? base.remoteRegion : (body.remote_region?.toLowerCase() ?? null),
      remoteKeepDays: body.remote_keep_days ?? base.remoteKeepDays,
      enabled: body.enabled ?? base.enabled,
    };
    if (merged.keepLast + merged.keepHourly + merged.keepDaily + merged.keepWeekly + merged.keepMonthly === 0)
      throw new VmcError('invalid', 'a policy keeps at least one backup: set one keep rule above 0', {
        fields: [{ field: 'keep_last', message: 'every keep rule is 0' }],
      });
    return merged;
  }

  // ---------------- worker steps ----------------

  /**
   * Turns due schedules into pending backups; moves each schedule to its next slot. The servers are read
   * before the transaction: another domain's service reads through its own connection, which on SQLite
   * would wait for this transaction's forever.
   */
  async function scheduleDue(limit = 500): Promise<number> {
    const nowMs = clock.nowMs();
    const candidates = await store.dueSchedules(db, nowMs, limit);
    if (candidates.length === 0) return 0;
    const servers = new Map<string, BackupServerInfo | null>();
    for (const s of candidates) servers.set(s.serverId, await deps.servers.current(s.serverId));
    return inTransaction(db, async (tx, hooks) => {
      const due = await store.dueSchedules(tx, nowMs, limit);
      const policies = await store.policies(tx, [...new Set(due.flatMap((s) => [s.serverId, s.projectId]))]);
      let created = 0;
      for (const s of due) {
        if (!servers.has(s.serverId)) continue; // due since the read: the next pass takes it
        const server = servers.get(s.serverId) ?? null;
        if (!server) {
          await store.deleteSchedule(tx, s.serverId);
          continue;
        }
        const policy = effectivePolicy(s, policies.get(s.serverId), policies.get(s.projectId));
        await store.setNextRun(tx, s.serverId, nextRunMs(s.serverId, policy.everyMinutes, nowMs));
        if (!policy.enabled) continue;
        if (await store.activeBackupOf(tx, s.serverId)) continue; // the one running covers this slot
        await insertPending(tx, hooks, s.serverId, 'schedule', server);
        created++;
      }
      return created;
    });
  }

  /** A pending backup of a server read before the transaction (never read here: see scheduleDue). */
  async function insertPending(
    tx: Tx,
    hooks: TxHooks,
    serverId: string,
    trigger: 'schedule' | 'manual',
    server: BackupServerInfo,
  ): Promise<BackupRecord> {
    const backup: BackupRecord = {
      id: newId('backup', clock.nowMs()),
      projectId: server.projectId,
      serverId: server.id,
      serverName: server.name,
      region: server.region,
      product: server.product,
      image: server.image,
      status: 'pending',
      trigger,
      kind: null,
      consistency: null,
      hostId: null,
      diskBytes: null,
      readBytes: null,
      storedBytes: null,
      durationMs: null,
      localSnapshot: null,
      remoteRegion: null,
      remoteSnapshot: null,
      verifiedAt: null,
      error: null,
      createdAt: clock.nowIso(),
      startedAt: null,
      finishedAt: null,
      takenAtMs: null,
      deletedAt: null,
    };
    await store.insertBackup(tx, backup);
    await record(
      tx,
      hooks,
      'backup.created',
      { projectId: backup.projectId, resourceType: 'backup', resourceId: backup.id },
      {
        server_id: server.id,
        trigger,
        region: server.region,
      },
    );
    return backup;
  }

  async function fail(backup: BackupRecord, message: string) {
    await inTransaction(db, async (tx, hooks) => {
      const done = await store.updateBackup(
        tx,
        backup.id,
        { status: 'failed', error: message, finishedAt: clock.nowIso() },
        'running',
      );
      if (!done) return;
      await record(
        tx,
        hooks,
        'backup.failed',
        { projectId: backup.projectId, resourceType: 'backup', resourceId: backup.id },
        {
          server_id: backup.serverId,
          error: message,
        },
      );
    });
  }

  /** Runs one pending backup to its end (succeeded or failed), then prunes the server's backups. */
  async function runBackup(pending: BackupRecord): Promise<void> {
    const server = await deps.servers.current(pending.serverId);
    const startedAtMs = clock.nowMs();
    const claimed = await inTransaction(db, async (tx, hooks) => {
      const ok = await store.updateBackup(
        tx,
        pending.id,
        { status: 'running', startedAt: clock.nowIso(), hostId: server?.hostId ?? null },
        'pending',
      );
      if (!ok) return false;
      if (server?.hostId)
        await record(
          tx,
          hooks,
          'backup.started',
          { projectId: pending.projectId, resourceType: 'backup', resourceId: pending.id },
          {
            server_id: pending.serverId,
            host_id: server.hostId,
          },
        );
      return true;
    });
    if (!claimed) return;
    if (!server || !server.hostId) {
      await fail(pending, server ? 'the server is not placed on a host' : 'the server was deleted');
      return;
    }
    try {
      const policy = await policyFor(db, server);
      // The parent: the newest backup of this server made on this host with a local copy.
      const history = await store.backupsOfServer(db, server.id);
      const parent = history.find(
        (b) => b.status === 'succeeded' && b.hostId === server.hostId && b.localSnapshot && !b.deletedAt,
      );
      const hostId = server.hostId;
      const attached = (await deps.volumes?.attachedTo(server.id)) ?? [];
      const regions = [server.region, ...(policy.remoteRegion ? [policy.remoteRegion] : [])];
      const outcome = await repositories.use(regions, () =>
        deps.executor.backup({
          backupId: pending.id,
          serverId: server.id,
          hostId,
          region: server.region,
          parentSnapshot: parent?.localSnapshot ?? null,
          parentTakenAtMs: parent?.takenAtMs ?? null,
          remoteRegion: policy.remoteRegion,
          diskBytes: server.diskBytes,
          volumes: attached.map((v) => ({ volumeId: v.volumeId, sizeGiB: v.sizeGiB })),
        }),
      );
      const known = new Map(attached.map((v) => [v.volumeId, v]));
      const volumes = outcome.volumes.map((v) => ({
        backupId: pending.id,
        volumeId: v.volumeId,
        volumeName: known.get(v.volumeId)?.name ?? v.volumeId,
        sizeGiB: known.get(v.volumeId)?.sizeGiB ?? Math.ceil(v.diskBytes / 1024 ** 3),
        kind: v.kind,
        diskBytes: v.diskBytes,
        readBytes: v.readBytes,
      }));
      await inTransaction(db, async (tx, hooks) => {
        const done = await store.updateBackup(
          tx,
          pending.id,
          {
            status: 'succeeded',
            kind: outcome.kind,
            consistency: outcome.consistency,
            diskBytes: outcome.diskBytes,
            readBytes: outcome.readBytes,
            storedBytes: outcome.storedBytes,
            durationMs: outcome.durationMs,
            localSnapshot: outcome.localSnapshot,
            remoteRegion: outcome.remoteSnapshot ? policy.remoteRegion : null,
            remoteSnapshot: outcome.remoteSnapshot,
            takenAtMs: outcome.takenAtMs,
            finishedAt: clock.nowIso(),
          },
          'running',
        );
        if (!done) return;
        await store.insertBackupVolumes(tx, volumes);
        await record(
          tx,
          hooks,
          'backup.succeeded',
          { projectId: pending.projectId, resourceType: 'backup', resourceId: pending.id },
          {
            server_id: server.id,
            kind: outcome.kind,
            disk_bytes: outcome.diskBytes,
            read_bytes: outcome.readBytes,
            stored_bytes: outcome.storedBytes,
            duration_ms: outcome.durationMs,
            location: outcome.remoteSnapshot ? 'both' : 'local',
            volume_ids: volumes.map((v) => v.volumeId),
          },
        );
      });
      await prune(server.id, policy);
      await forgetQueued();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.warn(
        { err: error, backup_id: pending.id, server_id: pending.serverId, after_ms: clock.nowMs() - startedAtMs },
        'backup failed',
      );
      await fail(pending, message);
    }
  }

  /** What reads a backup now: a restore, or a volume being made from it (null: nothing). */
  async function readBy(tx: Tx, backupId: string): Promise<{ volumeId: string | null } | null> {
    if (await store.activeRestoreOfBackup(tx, backupId)) return { volumeId: null };
    const filling = deps.volumeFillingFrom ? await deps.volumeFillingFrom(tx, backupId) : null;
    return filling ? { volumeId: filling } : null;
  }

  /**
   * Applies the policy to a server's backups: copies outside the retention are marked gone (events),
   * queued in backup_forgets (same transaction) to be forgotten in their repository; tenant-deleted backups lose their copies the same way.
   */
  async function prune(serverId: string, policy: EffectivePolicy | null): Promise<number> {
    const forgets: { region: string; snapshot: string; backupId: string }[] = [];
    await inTransaction(db, async (tx, hooks) => {
      const all = await store.backupsOfServer(tx, serverId);
      const live = all.filter((b) => b.status === 'succeeded' && !b.deletedAt && b.takenAtMs !== null);
      const plan = policy
        ? planPrune(
            live.map((b) => ({
              id: b.id,
              takenAtMs: b.takenAtMs!,
              local: !!b.localSnapshot,
              remote: !!b.remoteSnapshot,
            })),
            { ...retentionOf(policy), remoteKeepDays: policy.remoteKeepDays },
            clock.nowMs(),
          )
        : { dropLocal: [], dropRemote: [] };
      const byId = new Map(all.map((b) => [b.id, b]));
      const change = new Map<string, { local: boolean; remote: boolean }>();
      for (const id of plan.dropLocal) change.set(id, { local: true, remote: false });
      for (const id of plan.dropRemote) change.set(id, { local: change.get(id)?.local ?? false, remote: true });
      for (const b of all)
        if (b.deletedAt && (b.localSnapshot || b.remoteSnapshot)) change.set(b.id, { local: true, remote: true });
      // A copy a restore or a volume's fill is reading stays until they are done (a later pass drops it).
      for (const id of [...change.keys()]) if (!byId.get(id)!.deletedAt && (await readBy(tx, id))) change.delete(id);
      for (const [id, drop] of change) {
        const b = byId.get(id)!;
        const localSnapshot = drop.local ? null : b.localSnapshot;
        const remoteSnapshot = drop.remote ? null : b.remoteSnapshot;
        if (drop.local && b.localSnapshot)
          forgets.push({ region: b.region, snapshot: b.localSnapshot, backupId: b.id });
        if (drop.remote && b.remoteSnapshot && b.remoteRegion)
          forgets.push({ region: b.remoteRegion, snapshot: b.remoteSnapshot, backupId: b.id });
        const subject = { projectId: b.projectId, resourceType: 'backup' as const, resourceId: b.id };
        if (!localSnapshot && !remoteSnapshot) {
          await store.deleteBackupRow(tx, b.id);
          await record(tx, hooks, 'backup.deleted', subject, {
            server_id: b.serverId,
            reason: b.deletedAt ? 'deleted' : 'retention',
          });
        } else {
          await store.updateBackup(tx, b.id, { localSnapshot, remoteSnapshot });
          await record(tx, hooks, 'backup.copy_pruned', subject, {
            server_id: b.serverId,
            copy: drop.local ? 'local' : 'remote',
            location: localSnapshot && remoteSnapshot ? 'both' : localSnapshot ? 'local' : 'remote',
          });
        }
      }
      await store.queueForgets(tx, forgets, clock.nowIso());
      // Failed backups older than a day are dropped: they hold nothing.
      for (const b of all)
        if (b.status === 'failed' && Date.parse(b.createdAt) < clock.nowMs() - 86_400_000)
          await store.deleteBackupRow(tx, b.id);
    });
    return forgets.length;
  }

  /**
   * Forgets the queued snapshots, one `restic forget` per region; a region whose forget fails (its
   * repository locked or unreachable) keeps its queue for the next pass.
   */
  async function forgetQueued(): Promise<number> {
    const byRegion = new Map<string, string[]>();
    for (const f of await store.pendingForgets(db, 500))
      byRegion.set(f.region, [...(byRegion.get(f.region) ?? []), f.snapshot]);
    let forgotten = 0;
    for (const [region, snapshots] of byRegion) {
      try {
        await repositories.use([region], () => deps.executor.forget(region, snapshots));
        repositories.forgotten(region);
        await store.forgotten(db, region, snapshots);
        forgotten += snapshots.length;
      } catch (error) {
        log.warn({ err: error, region, snapshots }, 'could not forget snapshots; tried again at the next pass');
        await store.forgetFailed(db, region, snapshots, error instanceof Error ? error.message : String(error));
      }
    }
    return forgotten;
  }

  async function runRestore(pending: RestoreRecord): Promise<void> {
    const server = await deps.servers.current(pending.serverId);
    // A new server restores once its host runs it; until then it waits (the next pass looks again).
    if (pending.mode === 'to_new' && server && (!server.hostId || server.status !== 'running')) {
      if (server.status !== 'error') return;
    }
    const claimed = await inTransaction(db, async (tx) =>
      store.updateRestore(tx, pending.id, { status: 'running', startedAt: clock.nowIso() }, 'pending'),
    );
    if (!claimed) return;
    const finish = async (status: 'succeeded' | 'failed', error: string | null) => {
      const durationMs = clock.nowMs() - Date.parse(pending.createdAt);
      await inTransaction(db, async (tx, hooks) => {
        await store.updateRestore(tx, pending.id, { status, error, durationMs, finishedAt: clock.nowIso() }, 'running');
        await record(
          tx,
          hooks,
          'restore.finished',
          { projectId: pending.projectId, resourceType: 'restore', resourceId: pending.id },
          {
            backup_id: pending.backupId,
            server_id: pending.serverId,
            status,
            duration_ms: durationMs,
            ...(error ? { error } : {}),
          },
        );
      });
    };
    try {
      const backup = await store.backup(db, pending.backupId);
      if (!server?.hostId) throw new Error('the target server is gone or not placed');
      if (!backup || backup.status !== 'succeeded') throw new Error('the backup is gone');
      const snapshot = pending.region === backup.region ? backup.localSnapshot : backup.remoteSnapshot;
      if (!snapshot) throw new Error(`the backup has no copy in ${pending.region}`);
      const hostId = server.hostId;
      await repositories.use([pending.region], () =>
        deps.executor.restore({
          restoreId: pending.id,
          backupId: backup.id,
          serverId: server.id,
          hostId,
          repositoryRegion: pending.region,
          snapshot,
          diskBytes: backup.diskBytes ?? server.diskBytes,
        }),
      );
      await finish('succeeded', null);
    } catch (error) {
      await finish('failed', error instanceof Error ? error.message : String(error));
    }
  }

  /** Verifies the backups verified longest ago (or never): a damaged one is failed, so it is not listed as restorable. */
  async function verifySome(count: number): Promise<number> {
    const reverifyBefore = new Date(clock.nowMs() - (deps.reverifyAfterMs ?? 7 * 86_400_000)).toISOString();
    const candidates = (await store.verifyCandidates(db, count)).filter(
      (b) => !b.verifiedAt || b.verifiedAt < reverifyBefore,
    );
    for (const b of candidates) {
      const copies = [
        b.localSnapshot ? { region: b.region, snapshot: b.localSnapshot } : null,
        b.remoteSnapshot && b.remoteRegion ? { region: b.remoteRegion, snapshot: b.remoteSnapshot } : null,
      ].filter((c) => c !== null);
      let ok = true;
      for (const copy of copies)
        ok =
          (await repositories.use([copy.region], () => deps.executor.verify({ ...copy, serverId: b.serverId }))) && ok;
      await inTransaction(db, async (tx, hooks) => {
        await store.updateBackup(
          tx,
          b.id,
          ok
            ? { verifiedAt: clock.nowIso() }
            : {
                verifiedAt: clock.nowIso(),
                status: 'failed',
                error: 'verification failed: the repository data is damaged',
              },
        );
        await record(
          tx,
          hooks,
          'backup.verified',
          { projectId: b.projectId, resourceType: 'backup', resourceId: b.id },
          {
            server_id: b.serverId,
            ok,
          },
        );
      });
    }
    return candidates.length;
  }

  /** Backups or restores left running by a replica that died: failed after the timeout. */
  async function expireStale(): Promise<void> {
    const cutoff = new Date(clock.nowMs() - jobTimeoutMs).toISOString();
    for (const b of await store.backupsWithStatus(db, 'running', 200))
      if (!inFlight.has(b.id) && b.startedAt && b.startedAt < cutoff)
        await fail(b, 'interrupted: the job did not finish in time');
    for (const r of await store.restoresWithStatus(db, 'running', 200))
      if (!inFlight.has(r.id) && r.startedAt && r.startedAt < cutoff)
        await inTransaction(db, (tx) =>
          store.updateRestore(
            tx,
            r.id,
            { status: 'failed', error: 'interrupted', finishedAt: clock.nowIso() },
            'running',
          ),
        );
  }

  /** `restic prune` of a region's repository, with no job of this worker using it meanwhile. */
  /**
   * The volumes of a backup a restore to a new server (named `serverName`) recreates, each with a free name:
   * `<server>-<volume>`, then `-2`, `-3`… (names are 1–63 letters, digits and hyphens).
   */
  async function volumePartsOf(projectId: string, backupId: string, serverName: string) {
    const volumes = (await store.volumesOf(db, [backupId])).get(backupId) ?? [];
    if (volumes.length === 0) return [];
    if (!deps.volumes)
      throw new VmcError('unavailable', 'this control plane cannot make volumes: the backup holds some', {
        reason: 'volumes_unsupported',
      });
    const fit = (base: string, suffix: string) => `${base.slice(0, 63 - suffix.length).replace(/-+$/, '')}${suffix}`;
    const wanted = volumes.map((v) => fit(`${serverName}-${v.volumeName}`, ''));
    const taken = await deps.volumes.namesTaken(projectId, [
      ...wanted,
      ...wanted.flatMap((name) => [2, 3, 4, 5, 6, 7, 8, 9].map((n) => fit(name, `-${n}`))),
    ]);
    return volumes.map((v, i) => {
      let name = wanted[i];
      for (let n = 2; taken.has(name); n++) name = fit(wanted[i], `-${n}`);
      taken.add(name);
      return { volumeId: v.volumeId, name, sizeGiB: v.sizeGiB };
    });
  }

  async function pruneRepository(region: string): Promise<void> {
    const startedAtMs = clock.nowMs();
    try {
      await repositories.exclusive(region, () => deps.executor.prune(region));
      log.info({ region, duration_ms: clock.nowMs() - startedAtMs }, 'backup repository pruned');
    } catch (error) {
      log.warn({ err: error, region }, 'backup repository prune failed; retried at the next interval');
    }
  }

  function launch(id: string, work: () => Promise<void>) {
    if (inFlight.has(id) || inFlight.size >= concurrency) return;
    const job = work()
      .catch((error: unknown) => log.error({ err: error, job: id }, 'backup job failed'))
      .finally(() => inFlight.delete(id));
    inFlight.set(id, job);
  }

  return {
    store,

    // ---------------- policies ----------------

    async getServerPolicy(principal: Principal, serverId: string): Promise<BackupPolicy> {
      const { server } = await requireServer(principal, serverId, 'viewer');
      const schedule = await store.schedule(db, server.id);
      return policyView(await policyFor(db, server), server.id, schedule?.nextRunAtMs ?? null);
    },

    async setServerPolicy(principal: Principal, serverId: string, body: SetBackupPolicyBody): Promise<BackupPolicy> {
      const { server } = await requireServer(principal, serverId, 'member');
      const base = await policyFor(db, server);
      const merged = await validatePolicyBody(body, base, server.region);
      return inTransaction(db, async (tx, hooks) => {
        const row: PolicyRecord = {
          scopeId: server.id,
          projectId: server.projectId,
          updatedAt: clock.nowIso(),
          ...merged,
        };
        await store.upsertPolicy(tx, row);
        // A new period takes effect now: the next run is this server's next slot of it.
        const schedule = await store.schedule(tx, server.id);
        const next = nextRunMs(server.id, merged.everyMinutes, clock.nowMs());
        if (schedule) await store.setNextRun(tx, server.id, next);
        await record(
          tx,
          hooks,
          'backup.policy_changed',
          { projectId: server.projectId, resourceType: 'server', resourceId: server.id },
          {
            scope: 'server',
            every_minutes: merged.everyMinutes,
          },
        );
        return policyView({ ...merged, scope: 'server' }, server.id, schedule ? next : null);
      });
    },

    async getProjectPolicy(principal: Principal): Promise<BackupPolicy> {
      const caller = requireProject(principal, 'viewer');
      const own = await store.policy(db, caller.projectId);
      return policyView(effectivePolicy({ region: '' }, null, own), null, null);
    },

    async setProjectPolicy(principal: Principal, body: SetBackupPolicyBody): Promise<BackupPolicy> {
      const caller = requireProject(principal, 'owner');
      const base = effectivePolicy({ region: '' }, null, await store.policy(db, caller.projectId));
      const merged = await validatePolicyBody(body, base, null);
      return inTransaction(db, async (tx, hooks) => {
        await store.upsertPolicy(tx, {
          scopeId: caller.projectId,
          projectId: caller.projectId,
          updatedAt: clock.nowIso(),
          ...merged,
        });
        await record(
          tx,
          hooks,
          'backup.policy_changed',
          { projectId: caller.projectId, resourceType: 'project', resourceId: caller.projectId },
          {
            scope: 'project',
            every_minutes: merged.everyMinutes,
          },
        );
        return policyView({ ...merged, scope: 'project' }, null, null);
      });
    },

    // ---------------- backups ----------------

    async createBackup(principal: Principal, serverId: string): Promise<Backup> {
      const { server } = await requireServer(principal, serverId, 'member');
      if (!server.hostId) throw conflict(`server ${server.name} is not placed on a host yet`, { reason: 'not_placed' });
      return inTransaction(db, async (tx, hooks) => {
        if (await store.activeBackupOf(tx, server.id))
          throw conflict(`a backup of ${server.name} is already queued or running`, { reason: 'backup_in_progress' });
        const backup = await insertPending(tx, hooks, server.id, 'manual', server);
        return backupView(backup!, []);
      });
    },

    async listBackups(
      principal: Principal,
      query: ListBackupsQuery,
    ): Promise<{ backups: Backup[]; next_cursor: string | null }> {
      const caller = requireProject(principal, 'viewer');
      const limit = pageLimitOf(query.limit);
      const rows = await store.listBackups(db, {
        projectId: caller.projectId,
        serverId: query.server_id,
        beforeId: query.cursor ? decodeCursor(query.cursor) : null,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const volumes = await store.volumesOf(
        db,
        page.map((b) => b.id),
      );
      return {
        backups: page.map((b) => backupView(b, volumes.get(b.id))),
        next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].id) : null,
      };
    },

    async getBackup(principal: Principal, backupId: string): Promise<Backup> {
      const caller = requireProject(principal, 'viewer');
      const backup = await requireBackup(db, caller.projectId, backupId);
      return backupView(backup, (await store.volumesOf(db, [backup.id])).get(backup.id));
    },

    async deleteBackup(principal: Principal, backupId: string): Promise<void> {
      const caller = requireProject(principal, 'member');
      await inTransaction(db, async (tx, hooks) => {
        const backup = await store.lockBackup(tx, backupId, deps.dialect);
        if (!backup || backup.projectId !== caller.projectId || backup.deletedAt) throw notFound('backup', backupId);
        if (backup.status === 'pending' || backup.status === 'running')
          throw conflict(`backup ${backup.id} is ${backup.status}`, { reason: 'backup_in_progress' });
        const reader = await readBy(tx, backup.id);
        if (reader?.volumeId)
          throw conflict(`volume ${reader.volumeId} is being made from backup ${backup.id}`, {
            reason: 'restore_in_progress',
            details: { volume_id: reader.volumeId },
          });
        if (reader) throw conflict(`a restore reads backup ${backup.id}`, { reason: 'restore_in_progress' });
        if (!backup.localSnapshot && !backup.remoteSnapshot) {
          await store.deleteBackupRow(tx, backup.id);
        } else {
          await store.updateBackup(tx, backup.id, { deletedAt: clock.nowIso() });
        }
        await record(
          tx,
          hooks,
          'backup.deleted',
          { projectId: backup.projectId, resourceType: 'backup', resourceId: backup.id },
          {
            server_id: backup.serverId,
            reason: 'requested',
          },
        );
      });
    },

    async restoreBackup(principal: Principal, backupId: string, body: RestoreBackupBody): Promise<Restore> {
      const caller = requireProject(principal, 'member');
      const backup = await requireBackup(db, caller.projectId, backupId);
      if (backup.status !== 'succeeded')
        throw conflict(`backup ${backup.id} is ${backup.status}: only a succeeded backup restores`, {
          reason: 'backup_not_restorable',
        });
      const region = (body.region ?? backup.region).toLowerCase();
      const hasCopy =
        (region === backup.region && backup.localSnapshot) || (region === backup.remoteRegion && backup.remoteSnapshot);
      if (!hasCopy)
        throw new VmcError('invalid', `backup ${backup.id} has no copy in ${region}`, {
          fields: [
            {
              field: 'region',
              message: `copies: ${[backup.localSnapshot ? backup.region : null, backup.remoteSnapshot ? backup.remoteRegion : null].filter(Boolean).join(', ')}`,
            },
          ],
        });
      let targetId: string;
      let parts: { volumeId: string; name: string; sizeGiB: number }[] = [];
      if (body.mode === 'in_place') {
        if (body.name !== undefined)
          throw new VmcError('invalid', 'an in-place restore takes no name', {
            fields: [{ field: 'name', message: 'only for to_new' }],
          });
        if (region !== backup.region)
          throw new VmcError('invalid', 'an in-place restore reads the server’s own region', {
            fields: [{ field: 'region', message: 'only for to_new' }],
          });
        const server = await deps.servers.current(backup.serverId);
        if (!server || server.projectId !== caller.projectId) throw notFound('server', backup.serverId);
        if (server.status !== 'stopped')
          throw conflict(`server ${server.name} is ${server.status}: stop it first`, { reason: 'server_running' });
        targetId = server.id;
      } else {
        if (!body.name)
          throw new VmcError('invalid', 'a restore to a new server needs its name', {
            fields: [{ field: 'name', message: 'required for to_new' }],
          });
        if (!(await deps.regionExists(region)))
          throw new VmcError('invalid', `region ${region} does not exist`, {
            fields: [{ field: 'region', message: 'unknown region' }],
          });
        parts = await volumePartsOf(caller.projectId, backup.id, body.name);
        targetId = (
          await deps.servers.create(principal, {
            name: body.name,
            region,
            product: backup.product,
            image: backup.image,
          })
        ).serverId;
      }
      const snapshot = region === backup.region ? backup.localSnapshot! : backup.remoteSnapshot!;
      const recordRestore = async () => {
        // The volumes go on the new server's host (placed by its create).
        const created = parts.length > 0 ? await deps.servers.current(targetId) : null;
        if (parts.length > 0 && !created?.hostId)
          throw new VmcError('unavailable', `server ${body.name} has no host yet: its volumes cannot be made`, {
            reason: 'not_placed',
          });
        return inTransaction(db, async (tx, hooks) => {
          const volumeIds: string[] = [];
          for (const part of parts)
            volumeIds.push(
              await deps.volumes!.restoreFor(tx, hooks, {
                projectId: caller.projectId,
                name: part.name,
                sizeGiB: part.sizeGiB,
                server: { id: targetId, hostId: created!.hostId!, region: created!.region },
                backupId: backup.id,
                backupVolumeId: part.volumeId,
                repositoryRegion: region,
                repositorySnapshot: snapshot,
              }),
            );
          const restore: RestoreRecord = {
            id: newId('restore', clock.nowMs()),
            projectId: caller.projectId,
            backupId: backup.id,
            mode: body.mode,
            serverId: targetId,
            region,
            status: 'pending',
            durationMs: null,
            error: null,
            createdAt: clock.nowIso(),
            startedAt: null,
            finishedAt: null,
          };
          await store.insertRestore(tx, restore);
          await record(
            tx,
            hooks,
            'restore.started',
            { projectId: caller.projectId, resourceType: 'restore', resourceId: restore.id },
            {
              backup_id: backup.id,
              mode: body.mode,
              server_id: targetId,
              region,
              ...(volumeIds.length > 0 ? { volume_ids: volumeIds } : {}),
            },
          );
          return restoreView(restore);
        });
      };
      // A restore that cannot be recorded (the volume quota, no room on the new server's host for its
      // volumes, that host unknown) takes back the server it made: nothing is left half-done.
      return recordRestore().catch(async (error: unknown) => {
        if (body.mode === 'to_new')
          await deps.servers
            .remove(principal, targetId)
            .catch((removal: unknown) =>
              log.warn(
                { err: removal, server_id: targetId },
                'a restore failed and its new server could not be deleted',
              ),
            );
        throw error;
      });
    },

    /** A live backup of the project as a volume's source reads it (null: none, or another project's). */
    async backupForVolume(projectId: string, backupId: string) {
      const backup = await store.backup(db, backupId);
      if (!backup || backup.projectId !== projectId || backup.deletedAt) return null;
      const { id, status, region, remoteRegion, localSnapshot, remoteSnapshot, diskBytes } = backup;
      const volumes = ((await store.volumesOf(db, [id])).get(id) ?? []).map((v) => ({
        volumeId: v.volumeId,
        diskBytes: v.diskBytes,
      }));
      return { id, status, region, remoteRegion, localSnapshot, remoteSnapshot, diskBytes, volumes };
    },

    async getRestore(principal: Principal, restoreId: string): Promise<Restore> {
      const caller = requireProject(principal, 'viewer');
      const restore = await store.restore(db, restoreId);
      if (!restore || restore.projectId !== caller.projectId) throw notFound('restore', restoreId);
      return restoreView(restore);
    },

    async stats(principal: Principal): Promise<BackupStats> {
      const projectId = principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;
      const nowMs = clock.nowMs();
      const [servers, newest, rtos] = await Promise.all([
        store.scheduledServers(db, projectId),
        store.newestRestorable(db, projectId),
        store.lastRestoreDurations(db, projectId),
      ]);
      const rows = servers.map((s) => {
        const at = newest.get(s.serverId);
        const rto = rtos.get(s.serverId);
        return {
          server_id: s.serverId,
          region: s.region,
          rpo_now_s: at === undefined ? null : Math.max(0, Math.round((nowMs - at) / 1000)),
          last_rto_s: rto === undefined ? null : Math.round(rto / 1000),
          newest_backup_at: at === undefined ? null : new Date(at).toISOString(),
        };
      });
      const regions = [...new Set(rows.map((r) => r.region))].sort().map((region) => {
        const inRegion = rows.filter((r) => r.region === region);
        const rpos = inRegion.flatMap((r) => (r.rpo_now_s === null ? [] : [r.rpo_now_s]));
        const rtosS = inRegion.flatMap((r) => (r.last_rto_s === null ? [] : [r.last_rto_s]));
        return {
          region,
          servers: inRegion.length,
          servers_without_backup: inRegion.length - rpos.length,
          rpo_s: { p50: percentile(rpos, 50), p99: percentile(rpos, 99) },
          rto_s: { p50: percentile(rtosS, 50), p99: percentile(rtosS, 99) },
        };
      });
      return { servers: rows, regions, promise: { rpo_s: promisedRpoS, rto_s: promisedRtoS } };
    },

    // ---------------- the schedule follows servers (an event consumer's handler) ----------------

    /** Keeps `backup_schedules` in step with servers: called with each batch of the event stream, in its transaction. */
    async onEvents(events: Event[], tx: Tx): Promise<void> {
      for (const event of events) {
        if (event.type === 'server.created') {
          const data = event.data as EventPayloads['server.created'];
          const serverId = event.resource.id;
          const policies = await store.policies(tx, [serverId, event.project_id ?? '']);
          const policy = effectivePolicy(
            { region: data.region },
            policies.get(serverId),
            policies.get(event.project_id ?? ''),
          );
          await store.insertSchedule(
            tx,
            {
              serverId,
              projectId: event.project_id ?? '',
              serverName: data.name,
              region: data.region,
              nextRunAtMs: nextRunMs(serverId, policy.everyMinutes, Date.parse(event.at)),
            },
            event.at,
          );
        } else if (event.type === 'server.deleted') {
          await store.deleteSchedule(tx, event.resource.id);
        }
      }
    },

    // ---------------- the worker ----------------

    /**
     * One pass: due schedules become backups, pending backups and restores start (up to `concurrency` in
     * flight), stale jobs fail, tenant-deleted backups lose their copies, a few backups are verified.
     * Returns without waiting for the jobs it started (`drain` waits).
     */
    async runOnce(options: { verify?: boolean } = {}): Promise<{ scheduled: number; started: number }> {
      const scheduled = await scheduleDue();
      await expireStale();
      let started = 0;
      for (const b of await store.backupsWithStatus(db, 'pending', concurrency * 2)) {
        const before = inFlight.size;
        launch(b.id, () => runBackup(b));
        if (inFlight.size > before) started++;
      }
      for (const r of await store.restoresWithStatus(db, 'pending', concurrency * 2)) launch(r.id, () => runRestore(r));
      for (const serverId of await store.serversWithDeletedBackups(db, 50)) {
        const server = await deps.servers.current(serverId);
        await prune(serverId, server ? await policyFor(db, server) : null);
      }
      await forgetQueued();
      if (options.verify !== false) await verifySome(deps.verifyPerPass ?? 2);
      for (const region of repositories.duePrunes()) launch(`prune:${region}`, () => pruneRepository(region));
      return { scheduled, started };
    },

    /** Waits for the jobs this replica started. */
    async drain(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight.values()]);
    },

    /** Applies a server's policy now and forgets what it dropped; returns the copies dropped. */
    async prune(serverId: string): Promise<number> {
      const server = await deps.servers.current(serverId);
      const dropped = await prune(serverId, server ? await policyFor(db, server) : null);
      await forgetQueued();
      return dropped;
    },
    /** Prunes a region's repository now (operators, tests); waits for the jobs using it. */
    pruneRepository,
    verifySome,
  };
}

export type BackupService = ReturnType<typeof createBackupService>;
