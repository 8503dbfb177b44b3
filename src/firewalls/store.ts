/**
 * The only code that names the firewalls domain's tables: `firewalls`, `firewall_targets`,
 * `firewall_counters`. JSON columns (labels, rules) are parsed here, once.
 */
import type { Db, DialectName, Tx } from '../db/index.ts';
import type { Labels } from '../contract/index.ts';
import type { StoredRule } from './rules.ts';

export interface FirewallRecord {
  id: string;
  projectId: string;
  name: string;
  labels: Labels;
  rules: StoredRule[];
  rulesVersion: number;
  createdAt: string;
  updatedAt: string;
}

export type TargetKind = 'server' | 'label_selector';

export interface TargetRecord {
  firewallId: string;
  projectId: string;
  kind: TargetKind;
  /** The server id, or the selector text. */
  target: string;
}

export interface CounterRecord {
  firewallId: string;
  serverId: string;
  ruleIndex: number;
  rulesVersion: number;
  packets: number;
  bytes: number;
  updatedAt: string;
}

interface FirewallRow {
  id: string;
  project_id: string;
  name: string;
  labels_json: string;
  rules_json: string;
  rules_version: number;
  created_at: string;
  updated_at: string;
}

const firewallOf = (r: FirewallRow): FirewallRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  labels: JSON.parse(r.labels_json) as Labels,
  rules: JSON.parse(r.rules_json) as StoredRule[],
  rulesVersion: Number(r.rules_version),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const targetOf = (r: { firewall_id: string; project_id: string; kind: string; target: string }): TargetRecord => ({
  firewallId: r.firewall_id,
  projectId: r.project_id,
  kind: r.kind as TargetKind,
  target: r.target,
});

export function createFirewallStore(db: Db, dialect: DialectName) {
  return {
    async insert(tx: Tx, f: FirewallRecord): Promise<void> {
      await tx
        .insertInto('firewalls')
        .values({
          id: f.id,
          project_id: f.projectId,
          name: f.name,
          labels_json: JSON.stringify(f.labels),
          rules_json: JSON.stringify(f.rules),
          rules_version: f.rulesVersion,
          created_at: f.createdAt,
          updated_at: f.updatedAt,
        })
        .execute();
    },

    /** A firewall of the project by id or name (row locked on PostgreSQL with `lock`), or null. */
    async firewall(
      q: Tx | Db,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<FirewallRecord | null> {
      let query = q
        .selectFrom('firewalls')
        .selectAll()
        .where('project_id', '=', projectId)
        .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]));
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? firewallOf(row) : null;
    },

    async firewallsByIds(q: Tx | Db, ids: readonly string[]): Promise<FirewallRecord[]> {
      if (ids.length === 0) return [];
      const rows = await q
        .selectFrom('firewalls')
        .selectAll()
        .where('id', 'in', [...new Set(ids)])
        .execute();
      return rows.map(firewallOf);
    },

    /** One page of a project's firewalls in id order, after `afterId`. */
    async list(filter: { projectId: string; afterId: string | null; limit: number; name?: string }) {
      let query = db
        .selectFrom('firewalls')
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .orderBy('id')
        .limit(filter.limit);
      if (filter.afterId) query = query.where('id', '>', filter.afterId);
      if (filter.name) query = query.where('name', '=', filter.name);
      return (await query.execute()).map(firewallOf);
    },

    async update(
      tx: Tx,
      id: string,
      change: { name?: string; labels?: Labels; rules?: StoredRule[]; bumpRules?: boolean },
      nowIso: string,
    ): Promise<void> {
      await tx
        .updateTable('firewalls')
        .set((eb) => ({
          updated_at: nowIso,
          ...(change.name !== undefined && { name: change.name }),
          ...(change.labels !== undefined && { labels_json: JSON.stringify(change.labels) }),
          ...(change.rules !== undefined && { rules_json: JSON.stringify(change.rules) }),
          ...(change.bumpRules && { rules_version: eb('rules_version', '+', 1) }),
        }))
        .where('id', '=', id)
        .execute();
    },

    async delete(tx: Tx, id: string): Promise<void> {
      await tx.deleteFrom('firewall_counters').where('firewall_id', '=', id).execute();
      await tx.deleteFrom('firewall_targets').where('firewall_id', '=', id).execute();
      await tx.deleteFrom('firewalls').where('id', '=', id).execute();
    },

    async targets(q: Tx | Db, firewallIds: readonly string[]): Promise<TargetRecord[]> {
      if (firewallIds.length === 0) return [];
      const rows = await q
        .selectFrom('firewall_targets')
        .selectAll()
        .where('firewall_id', 'in', [...new Set(firewallIds)])
        .orderBy('created_at')
        .orderBy('target')
        .execute();
      return rows.map(targetOf);
    },

    /** Direct targets naming these servers, and every selector target of these projects. */
    async targetsReaching(
      q: Tx | Db,
      serverIds: readonly string[],
      projectIds: readonly string[],
    ): Promise<TargetRecord[]> {
      if (serverIds.length === 0) return [];
      const rows = await q
        .selectFrom('firewall_targets')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb.and([eb('kind', '=', 'server'), eb('target', 'in', [...new Set(serverIds)])]),
            ...(projectIds.length > 0
              ? [eb.and([eb('kind', '=', 'label_selector'), eb('project_id', 'in', [...new Set(projectIds)])])]
              : []),
          ]),
        )
        .execute();
      return rows.map(targetOf);
    },

    async insertTarget(tx: Tx, target: TargetRecord, nowIso: string): Promise<void> {
      await tx
        .insertInto('firewall_targets')
        .values({
          firewall_id: target.firewallId,
          project_id: target.projectId,
          kind: target.kind,
          target: target.target,
          created_at: nowIso,
        })
        .execute();
    },

    async deleteTarget(tx: Tx, target: Pick<TargetRecord, 'firewallId' | 'kind' | 'target'>): Promise<number> {
      const result = await tx
        .deleteFrom('firewall_targets')
        .where('firewall_id', '=', target.firewallId)
        .where('kind', '=', target.kind)
        .where('target', '=', target.target)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async counters(q: Tx | Db, firewallIds: readonly string[]): Promise<CounterRecord[]> {
      if (firewallIds.length === 0) return [];
      const rows = await q
        .selectFrom('firewall_counters')
        .selectAll()
        .where('firewall_id', 'in', [...new Set(firewallIds)])
        .execute();
      return rows.map((r) => ({
        firewallId: r.firewall_id,
        serverId: r.server_id,
        ruleIndex: Number(r.rule_index),
        rulesVersion: Number(r.rules_version),
        packets: Number(r.packets),
        bytes: Number(r.bytes),
        updatedAt: r.updated_at,
      }));
    },

    /** Replaces every counter of these servers with `rows` (a host's report is the truth about its servers). */
    async replaceCounters(tx: Tx, serverIds: readonly string[], rows: readonly CounterRecord[]): Promise<void> {
      for (let i = 0; i < serverIds.length; i += 500)
        await tx
          .deleteFrom('firewall_counters')
          .where('server_id', 'in', serverIds.slice(i, i + 500))
          .execute();
      for (let i = 0; i < rows.length; i += 200)
        await tx
          .insertInto('firewall_counters')
          .values(
            rows.slice(i, i + 200).map((r) => ({
              firewall_id: r.firewallId,
              server_id: r.serverId,
              rule_index: r.ruleIndex,
              rules_version: r.rulesVersion,
              packets: r.packets,
              bytes: r.bytes,
              updated_at: r.updatedAt,
            })),
          )
          .execute();
    },
  };
}

export type FirewallStore = ReturnType<typeof createFirewallStore>;
