/**
 * Long-running work of the host API (disk backups and restores: minutes to hours) as jobs: a POST starts
 * one and answers 202 at once, the control plane polls `GET /jobs/:id` until it is finished. No HTTP request
 * stays open for the length of a backup, so no proxy, idle or header timeout can cut it, and a control plane
 * that lost its connection (or its replica) can ask again.
 *
 * Jobs are named by the caller (`bkp_…`, `rst_…`): starting a job that exists returns it (a retried POST
 * does not run the work twice). They live in the agent's memory: an agent restart loses them, and the
 * control plane, getting 404 for a job it started, fails the backup (`host_job_lost`); the next backup
 * starts over. Finished jobs are kept for `keepFinishedMs` (default 1 h) for late pollers.
 */
import { conflict, isVmcError, type ErrorCode } from '../../core/errors.ts';

export type HostJobKind = 'backup' | 'restore';

export interface HostJob {
  id: string;
  kind: HostJobKind;
  serverId: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAtMs: number;
  finishedAtMs: number | null;
  result: unknown;
  error: { code: ErrorCode; message: string; reason: string | null } | null;
}

export interface HostJobs {
  /** Starts `work` as job `id`, or returns the job of that id when it exists (same kind and server). */
  start(id: string, kind: HostJobKind, serverId: string, work: () => Promise<unknown>): HostJob;
  get(id: string): HostJob | null;
  /** Resolves when every running job has finished (close). */
  settled(): Promise<void>;
}

/** What a failure tells the control plane: a VmcError as it is; anything else by its first line only. */
function jobError(error: unknown): NonNullable<HostJob['error']> {
  if (isVmcError(error)) return { code: error.code, message: error.message, reason: error.reason ?? null };
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = text.split('\n').find((line) => line.trim() !== '') ?? 'unknown error';
  return { code: 'internal', message: `the job failed on the host: ${firstLine.slice(0, 300)}`, reason: null };
}

export function createHostJobs(
  options: { nowMs?: () => number; keepFinishedMs?: number; onFailure?: (job: HostJob, error: unknown) => void } = {},
): HostJobs {
  const nowMs = options.nowMs ?? Date.now;
  const keepFinishedMs = options.keepFinishedMs ?? 3600_000;
  const jobs = new Map<string, HostJob>();
  const running = new Set<Promise<void>>();

  const evict = () => {
    const before = nowMs() - keepFinishedMs;
    for (const [id, job] of jobs) if (job.finishedAtMs !== null && job.finishedAtMs < before) jobs.delete(id);
  };

  return {
    start(id, kind, serverId, work) {
      evict();
      const existing = jobs.get(id);
      if (existing) {
        if (existing.kind !== kind || existing.serverId !== serverId)
          throw conflict(`job ${id} exists for another ${existing.kind} of ${existing.serverId}`, {
            reason: 'job_id_taken',
          });
        return existing;
      }
      const job: HostJob = {
        id,
        kind,
        serverId,
        status: 'running',
        startedAtMs: nowMs(),
        finishedAtMs: null,
        result: null,
        error: null,
      };
      jobs.set(id, job);
      const done = Promise.resolve()
        .then(work)
        .then(
          (result) => {
            job.result = result;
            job.status = 'succeeded';
          },
          (error: unknown) => {
            job.error = jobError(error);
            job.status = 'failed';
            options.onFailure?.(job, error);
          },
        )
        .finally(() => {
          job.finishedAtMs = nowMs();
          running.delete(done);
        });
      running.add(done);
      return job;
    },
    get(id) {
      evict();
      return jobs.get(id) ?? null;
    },
    async settled() {
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
