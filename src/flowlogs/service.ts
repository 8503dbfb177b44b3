/**
 * Flow logs: a project turns them on (for some or all of its servers) with a retention of at most 30 days;
 * records come from the hosts (conntrack/nft on qemu hosts, the traffic model on the sim fleet); the project
 * queries and exports its own; retention drops whole days. The purpose — security forensics of the
 * project's servers — and the rules are in docs/privacy.md.
 */
import type { Db, DialectName } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import { invalid, type Clock, type Logger } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import type {
  FlowExportQuery,
  FlowLogPage,
  FlowLogQuery,
  FlowLogSettings,
  FlowRecord,
  SetFlowLogSettingsBody,
} from '../contract/index.ts';
import { createFlowLogStore, type SettingsRow } from './store.ts';
import { csvHeader, csvLine, dayMs, dayOf, jsonLine, wireOf, type FlowInput } from './format.ts';

export const flowLogPurpose =
  'security forensics of the project’s own servers (investigating attacks, abuse and misconfigured firewalls)';
export const maxRetentionDays = 30;
const maxWindowMs = 7 * dayMs;

export interface FlowLogServiceDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  /** A server of the principal's project by id or name → its id (not_found otherwise). */
  resolveServer: (principal: Principal, ref: string) => Promise<string>;
  /** The servers a project has had (ids), for project-wide queries. */
  serversOfProject: (projectId: string) => Promise<string[]>;
}

const encodeCursor = (r: { startMs: number; seq: number }) =>
  Buffer.from(`${r.startMs}:${r.seq}`).toString('base64url');
function decodeCursor(cursor: string): { startMs: number; seq: number } {
  const [a, b] = Buffer.from(cursor, 'base64url').toString().split(':').map(Number);
  if (!Number.isInteger(a) || !Number.isInteger(b))
    throw invalid('cursor is not a cursor of this list', { fields: [{ field: 'cursor', message: 'unknown cursor' }] });
  return { startMs: a, seq: b };
}

export function createFlowLogService(deps: FlowLogServiceDeps) {
  const { db, clock } = deps;
  const store = createFlowLogStore({ db, dialect: deps.dialect });

  const view = (projectId: string, s: SettingsRow | null): FlowLogSettings => ({
    project_id: projectId,
    enabled: s?.enabled ?? false,
    servers: s?.serverIds ?? [],
    retention_days: s?.retentionDays ?? maxRetentionDays,
    purpose: flowLogPurpose,
    updated_at: s?.updatedAt ?? null,
  });

  async function window(principal: Principal, q: FlowLogQuery | FlowExportQuery) {
    const caller = requireProject(principal, 'viewer');
    const parse = (value: string | undefined, field: string, fallback: number) => {
      if (value === undefined) return fallback;
      const ms = Date.parse(value);
      if (Number.isNaN(ms)) throw invalid(`${field} is not a time`, { fields: [{ field, message: 'not a time' }] });
      return ms;
    };
    const toMs = parse(q.to, 'to', clock.nowMs());
    const fromMs = parse(q.from, 'from', toMs - 3_600_000);
    if (fromMs >= toMs) throw invalid('from must be before to', { fields: [{ field: 'from', message: 'after to' }] });
    if (toMs - fromMs > maxWindowMs)
      throw invalid('a query spans at most 7 days', { fields: [{ field: 'from', message: 'window over 7 days' }] });
    const port = q.port === undefined ? undefined : Number(q.port);
    if (port !== undefined && (port < 0 || port > 65535))
      throw invalid('port must be 0–65535', { fields: [{ field: 'port', message: 'out of range' }] });
    const serverIds = q.server
      ? [await deps.resolveServer(principal, q.server)]
      : await deps.serversOfProject(caller.projectId);
    return { projectId: caller.projectId, serverIds, fromMs, toMs, addr: q.addr, port };
  }

  return {
    async getSettings(principal: Principal): Promise<FlowLogSettings> {
      const caller = requireProject(principal, 'viewer');
      return view(caller.projectId, await store.settings(db, caller.projectId));
    },

    async setSettings(principal: Principal, body: SetFlowLogSettingsBody): Promise<FlowLogSettings> {
      const caller = requireProject(principal, 'owner');
      const serverIds: string[] = [];
      for (const ref of body.servers ?? []) serverIds.push(await deps.resolveServer(principal, ref));
      const retentionDays = body.retention_days ?? maxRetentionDays;
      const row: SettingsRow = {
        projectId: caller.projectId,
        enabled: body.enabled,
        serverIds: [...new Set(serverIds)],
        retentionDays,
        updatedAt: clock.nowIso(),
      };
      await inTransaction(db, async (tx, hooks) => {
        await store.putSettings(tx, row);
        await deps.events.record(tx, hooks, {
          type: 'flow_logs.settings_changed',
          projectId: caller.projectId,
          resourceType: 'project',
          resourceId: caller.projectId,
          data: { enabled: row.enabled, servers: row.serverIds.length, retention_days: retentionDays },
        });
      });
      return view(caller.projectId, row);
    },

    /** Which servers of which projects log flows now (the collectors ask once per pass). */
    async enabled(): Promise<Map<string, Set<string> | 'all'>> {
      const out = new Map<string, Set<string> | 'all'>();
      for (const s of await store.allSettings())
        if (s.enabled) out.set(s.projectId, s.serverIds.length === 0 ? 'all' : new Set(s.serverIds));
      return out;
    },

    /** Records from a host or the sim model. */
    async ingest(flows: readonly FlowInput[]): Promise<void> {
      if (flows.length > 0) await store.insert(flows, clock.nowIso());
    },

    async query(principal: Principal, q: FlowLogQuery): Promise<FlowLogPage> {
      const w = await window(principal, q);
      const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
      const rows = await store.query({
        ...w,
        after: q.cursor ? decodeCursor(q.cursor) : undefined,
        limit: limit + 1,
      });
      const more = rows.length > limit;
      const page = rows.slice(0, limit);
      return { flows: page.map(wireOf), next_cursor: more ? encodeCursor(page[page.length - 1]) : null };
    },

    /** The export, a page of 5 000 records at a time: JSON lines or CSV (header first). */
    async *export(principal: Principal, q: FlowExportQuery): AsyncGenerator<string> {
      const w = await window(principal, q);
      const format = q.format ?? 'jsonl';
      if (format === 'csv') yield `${csvHeader}\n`;
      let after: { startMs: number; seq: number } | undefined;
      for (;;) {
        const rows = await store.query({ ...w, after, limit: 5000 });
        for (const r of rows) {
          const record: FlowRecord = wireOf(r);
          yield `${format === 'csv' ? csvLine(record) : jsonLine(record)}\n`;
        }
        if (rows.length < 5000) return;
        after = rows[rows.length - 1];
      }
    },

    /**
     * Retention: days older than the longest retention (30 days) are dropped whole; a project with a shorter
     * retention has its older records deleted from the days still kept.
     */
    async purge(nowMs = clock.nowMs()): Promise<{ droppedDays: string[]; deleted: number }> {
      const cutoffDay = dayOf(nowMs - maxRetentionDays * dayMs);
      const droppedDays = await store.dropDaysBefore(cutoffDay);
      for (const day of droppedDays)
        await inTransaction(db, async (tx, hooks) => {
          await deps.events.record(tx, hooks, {
            type: 'flow_logs.day_purged',
            projectId: null,
            resourceType: 'flow_log_day',
            resourceId: day,
            data: { day },
          });
        });
      let deleted = 0;
      for (const s of await store.allSettings())
        if (s.retentionDays < maxRetentionDays)
          deleted += await store.deleteProjectBefore(s.projectId, nowMs - s.retentionDays * dayMs);
      return { droppedDays, deleted };
    },

    days: () => store.days(),
  };
}
export type FlowLogService = ReturnType<typeof createFlowLogService>;
