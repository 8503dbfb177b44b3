/**
 * The host API's backup routes: `POST /backups/:serverId` and `POST /restores/:serverId` start a job on the
 * driver (202 with the job), `GET /jobs/:id` tells how it is going (src/agent/host-api/host-jobs.ts). The
 * repositories' passwords arrive in the request body over mutual TLS; they are handed to restic through a
 * 0600 file (src/backups/restic.ts) and never logged: only ids and the repository's region are.
 */
import type { FastifyInstance } from 'fastify';
import { invalid, notFound, VmcError } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { HostBackupDriver } from './feature-driver.ts';
import type { HostJobs } from './host-jobs.ts';
import {
  backupRequestFromWire,
  hostJobToWire,
  restoreRequestFromWire,
  type BackupRequestWire,
  type RepositoryWire,
  type RestoreRequestWire,
} from './wire.ts';

const idPattern = /^[A-Za-z0-9_-]{1,100}$/;
const snapshotPattern = /^[0-9a-f]{8,64}$/;

type Field = { field: string; message: string };

function checkId(value: unknown, field: string, problems: Field[]): void {
  if (typeof value !== 'string' || !idPattern.test(value)) problems.push({ field, message: 'letters, digits, _ or -' });
}

function checkSnapshot(value: unknown, field: string, problems: Field[], nullable: boolean): void {
  if (nullable && value === null) return;
  if (typeof value !== 'string' || !snapshotPattern.test(value))
    problems.push({ field, message: 'a restic snapshot id (hex)' });
}

function checkRepository(value: unknown, field: string, problems: Field[], nullable: boolean): void {
  if (nullable && value === null) return;
  const repo = value as Partial<RepositoryWire> | null;
  if (!repo || typeof repo !== 'object') {
    problems.push({ field, message: 'a repository {region, url, password}' });
    return;
  }
  if (typeof repo.region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(repo.region))
    problems.push({ field: `${field}.region`, message: 'a region code' });
  if (typeof repo.url !== 'string' || repo.url.length === 0 || repo.url.length > 1000)
    problems.push({ field: `${field}.url`, message: '1 to 1000 characters' });
  if (typeof repo.password !== 'string' || repo.password.length === 0 || repo.password.length > 1024)
    problems.push({ field: `${field}.password`, message: '1 to 1024 characters' });
}

function refuse(problems: Field[]): void {
  if (problems.length > 0)
    throw invalid(`the request is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, {
      fields: problems,
    });
}

export function registerHostBackupRoutes(
  scope: FastifyInstance,
  deps: {
    backups: () => HostBackupDriver | null;
    jobs: HostJobs;
    log: Logger;
    checkServerId: (serverId: string) => string;
  },
): void {
  const driver = (): HostBackupDriver => {
    const found = deps.backups();
    if (!found)
      throw new VmcError('conflict', "this host's driver does not offer backups (only the qemu driver does)", {
        reason: 'unsupported',
      });
    return found;
  };

  scope.post<{ Params: { serverId: string }; Body: BackupRequestWire | null }>(
    '/backups/:serverId',
    async (request, reply) => {
      const serverId = deps.checkServerId(request.params.serverId);
      const body = request.body ?? ({} as BackupRequestWire);
      const problems: Field[] = [];
      checkId(body.backup_id, 'backup_id', problems);
      checkSnapshot(body.parent_snapshot ?? null, 'parent_snapshot', problems, true);
      checkRepository(body.local, 'local', problems, false);
      checkRepository(body.remote ?? null, 'remote', problems, true);
      refuse(problems);
      const backups = driver();
      const input = backupRequestFromWire({
        ...body,
        parent_snapshot: body.parent_snapshot ?? null,
        remote: body.remote ?? null,
      });
      const job = deps.jobs.start(input.backupId, 'backup', serverId, () => backups.backupDisk(serverId, input));
      deps.log.info(
        { serverId, job: job.id, local: input.local.region, remote: input.remote?.region ?? null },
        'backup job',
      );
      return reply.code(202).send({ job: hostJobToWire(job) });
    },
  );

  scope.post<{ Params: { serverId: string }; Body: RestoreRequestWire | null }>(
    '/restores/:serverId',
    async (request, reply) => {
      const serverId = deps.checkServerId(request.params.serverId);
      const body = request.body ?? ({} as RestoreRequestWire);
      const problems: Field[] = [];
      checkId(body.restore_id, 'restore_id', problems);
      checkSnapshot(body.snapshot, 'snapshot', problems, false);
      checkRepository(body.repository, 'repository', problems, false);
      refuse(problems);
      const backups = driver();
      const input = restoreRequestFromWire(body);
      const job = deps.jobs.start(input.restoreId, 'restore', serverId, () => backups.restoreDisk(serverId, input));
      deps.log.info({ serverId, job: job.id, repository: input.repository.region }, 'restore job');
      return reply.code(202).send({ job: hostJobToWire(job) });
    },
  );

  scope.get<{ Params: { id: string } }>('/jobs/:id', async (request) => {
    const job = idPattern.test(request.params.id) ? deps.jobs.get(request.params.id) : null;
    if (!job) throw notFound('job', request.params.id);
    return { job: hostJobToWire(job) };
  });
}
