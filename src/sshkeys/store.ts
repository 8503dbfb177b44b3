/** The only code that names the SSH keys domain's table, `ssh_keys`. JSON columns (labels) are parsed here. */
import { sql } from 'kysely';
import type { Db, DialectName, Tx } from '../db/index.ts';
import type { Labels, SshKeyType } from '../contract/index.ts';

export interface SshKeyRecord {
  id: string;
  projectId: string;
  name: string;
  publicKey: string;
  fingerprint: string;
  type: SshKeyType;
  bits: number;
  labels: Labels;
  createdAt: string;
  updatedAt: string;
}

interface SshKeyRow {
  id: string;
  project_id: string;
  name: string;
  public_key: string;
  fingerprint: string;
  type: string;
  bits: number;
  labels_json: string;
  created_at: string;
  updated_at: string;
}

const recordOf = (r: SshKeyRow): SshKeyRecord => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  publicKey: r.public_key,
  fingerprint: r.fingerprint,
  type: r.type as SshKeyType,
  bits: Number(r.bits),
  labels: JSON.parse(r.labels_json) as Labels,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export function createSshKeyStore(db: Db, dialect: DialectName) {
  return {
    /**
     * Serializes the creates of one project (PostgreSQL: a transaction-scoped advisory lock; SQLite: its one
     * writer already does), so two creates cannot both pass the count under the limit.
     */
    async lockProject(tx: Tx, projectId: string): Promise<void> {
      if (dialect === 'postgres')
        await sql`select pg_advisory_xact_lock(hashtext(${`ssh_keys:${projectId}`}))`.execute(tx);
    },

    async count(tx: Tx, projectId: string): Promise<number> {
      const row = await tx
        .selectFrom('ssh_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async insert(tx: Tx, k: SshKeyRecord): Promise<void> {
      await tx
        .insertInto('ssh_keys')
        .values({
          id: k.id,
          project_id: k.projectId,
          name: k.name,
          public_key: k.publicKey,
          fingerprint: k.fingerprint,
          type: k.type,
          bits: k.bits,
          labels_json: JSON.stringify(k.labels),
          created_at: k.createdAt,
          updated_at: k.updatedAt,
        })
        .execute();
    },

    /** A key of the project by id or name (row locked on PostgreSQL with `lock`), or null. */
    async key(
      q: Tx | Db,
      projectId: string,
      ref: string,
      options: { lock?: boolean } = {},
    ): Promise<SshKeyRecord | null> {
      let query = q
        .selectFrom('ssh_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]));
      if (options.lock && dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    /** The project's keys named (by id or name) by any of `refs`. */
    async keysByRefs(q: Tx | Db, projectId: string, refs: readonly string[]): Promise<SshKeyRecord[]> {
      if (refs.length === 0) return [];
      const unique = [...new Set(refs)];
      const rows = await q
        .selectFrom('ssh_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .where((eb) => eb.or([eb('id', 'in', unique), eb('name', 'in', unique)]))
        .execute();
      return rows.map(recordOf);
    },

    async byFingerprint(q: Tx | Db, projectId: string, fingerprint: string): Promise<SshKeyRecord | null> {
      const row = await q
        .selectFrom('ssh_keys')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('fingerprint', '=', fingerprint)
        .executeTakeFirst();
      return row ? recordOf(row) : null;
    },

    /** One page of a project's keys in id order, after `afterId`. */
    async list(filter: {
      projectId: string;
      afterId: string | null;
      limit: number;
      name?: string;
      fingerprint?: string;
    }): Promise<SshKeyRecord[]> {
      let query = db
        .selectFrom('ssh_keys')
        .selectAll()
        .where('project_id', '=', filter.projectId)
        .orderBy('id')
        .limit(filter.limit);
      if (filter.afterId) query = query.where('id', '>', filter.afterId);
      if (filter.name) query = query.where('name', '=', filter.name);
      if (filter.fingerprint) query = query.where('fingerprint', '=', filter.fingerprint);
      return (await query.execute()).map(recordOf);
    },

    async update(tx: Tx, id: string, change: { name?: string; labels?: Labels }, nowIso: string): Promise<void> {
      await tx
        .updateTable('ssh_keys')
        .set({
          updated_at: nowIso,
          ...(change.name !== undefined && { name: change.name }),
          ...(change.labels !== undefined && { labels_json: JSON.stringify(change.labels) }),
        })
        .where('id', '=', id)
        .execute();
    },

    async delete(tx: Tx, id: string): Promise<void> {
      await tx.deleteFrom('ssh_keys').where('id', '=', id).execute();
    },
  };
}

export type SshKeyStore = ReturnType<typeof createSshKeyStore>;
