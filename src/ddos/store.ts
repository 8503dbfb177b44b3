/** The only code that names the DDoS domain's tables: `ddos_settings`, `ddos_attacks`, `ddos_addresses`. */
import type { Selectable } from 'kysely';
import type { Db, Tx } from '../db/index.ts';
import type { DdosAttacksTable } from './tables.ts';
import type { AddressState } from './detection.ts';
import type { CustomRule } from './nft-rules.ts';
import type { DdosTier } from './tiers.ts';

export interface SettingsRecord {
  projectId: string;
  tier: DdosTier;
  rules: CustomRule[];
  thresholds: Array<{ address: string; minPps: number; minBps: number }>;
  version: number;
  updatedAt: string;
}

export interface AttackRecord {
  id: string;
  projectId: string;
  serverId: string | null;
  address: string;
  tier: DdosTier;
  status: 'active' | 'ended';
  vector: string;
  detectedBy: 'fast_path' | 'counters';
  startedAt: string;
  endedAt: string | null;
  peakPps: number;
  peakBps: number;
  droppedPackets: number;
  actions: string[];
}

const attackOf = (r: Selectable<DdosAttacksTable>): AttackRecord => ({
  id: r.id,
  projectId: r.project_id,
  serverId: r.server_id,
  address: r.address,
  tier: r.tier as DdosTier,
  status: r.status as AttackRecord['status'],
  vector: r.vector,
  detectedBy: r.detected_by as AttackRecord['detectedBy'],
  startedAt: r.started_at,
  endedAt: r.ended_at,
  peakPps: Number(r.peak_pps),
  peakBps: Number(r.peak_bps),
  droppedPackets: Number(r.dropped_packets),
  actions: JSON.parse(r.actions_json) as string[],
});

export function createDdosStore() {
  return {
    async settings(q: Db | Tx, projectId: string): Promise<SettingsRecord | null> {
      const r = await q.selectFrom('ddos_settings').selectAll().where('project_id', '=', projectId).executeTakeFirst();
      return r
        ? {
            projectId: r.project_id,
            tier: r.tier as DdosTier,
            rules: JSON.parse(r.rules_json) as CustomRule[],
            thresholds: JSON.parse(r.thresholds_json) as SettingsRecord['thresholds'],
            version: Number(r.version),
            updatedAt: r.updated_at,
          }
        : null;
    },

    async putSettings(tx: Tx, s: SettingsRecord): Promise<void> {
      const values = {
        project_id: s.projectId,
        tier: s.tier,
        rules_json: JSON.stringify(s.rules),
        thresholds_json: JSON.stringify(s.thresholds),
        version: s.version,
        updated_at: s.updatedAt,
      };
      await tx
        .insertInto('ddos_settings')
        .values(values)
        .onConflict((oc) =>
          oc.column('project_id').doUpdateSet({
            tier: values.tier,
            rules_json: values.rules_json,
            thresholds_json: values.thresholds_json,
            version: values.version,
            updated_at: values.updated_at,
          }),
        )
        .execute();
    },

    async insertAttack(tx: Tx, a: AttackRecord): Promise<void> {
      await tx
        .insertInto('ddos_attacks')
        .values({
          id: a.id,
          project_id: a.projectId,
          server_id: a.serverId,
          address: a.address,
          tier: a.tier,
          status: a.status,
          vector: a.vector,
          detected_by: a.detectedBy,
          started_at: a.startedAt,
          ended_at: a.endedAt,
          peak_pps: Math.round(a.peakPps),
          peak_bps: Math.round(a.peakBps),
          dropped_packets: a.droppedPackets,
          actions_json: JSON.stringify(a.actions),
        })
        .execute();
    },

    async updateAttack(
      tx: Tx,
      id: string,
      change: Partial<Pick<AttackRecord, 'status' | 'endedAt' | 'peakPps' | 'peakBps' | 'droppedPackets' | 'actions'>>,
    ): Promise<void> {
      await tx
        .updateTable('ddos_attacks')
        .set({
          ...(change.status !== undefined && { status: change.status }),
          ...(change.endedAt !== undefined && { ended_at: change.endedAt }),
          ...(change.peakPps !== undefined && { peak_pps: Math.round(change.peakPps) }),
          ...(change.peakBps !== undefined && { peak_bps: Math.round(change.peakBps) }),
          ...(change.droppedPackets !== undefined && { dropped_packets: change.droppedPackets }),
          ...(change.actions !== undefined && { actions_json: JSON.stringify(change.actions) }),
        })
        .where('id', '=', id)
        .execute();
    },

    async activeAttack(q: Db | Tx, address: string): Promise<AttackRecord | null> {
      const r = await q
        .selectFrom('ddos_attacks')
        .selectAll()
        .where('status', '=', 'active')
        .where('address', '=', address)
        .executeTakeFirst();
      return r ? attackOf(r) : null;
    },

    async attack(q: Db | Tx, id: string): Promise<AttackRecord | null> {
      const r = await q.selectFrom('ddos_attacks').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? attackOf(r) : null;
    },

    async listAttacks(
      q: Db | Tx,
      filter: { projectId?: string; status?: 'active' | 'ended'; beforeId?: string; limit: number },
    ): Promise<AttackRecord[]> {
      let query = q.selectFrom('ddos_attacks').selectAll();
      if (filter.projectId) query = query.where('project_id', '=', filter.projectId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(attackOf);
    },

    async addressState(q: Db | Tx, key: string): Promise<AddressState | null> {
      const r = await q.selectFrom('ddos_addresses').select('state_json').where('address', '=', key).executeTakeFirst();
      return r ? (JSON.parse(r.state_json) as AddressState) : null;
    },

    async putAddressState(q: Db | Tx, key: string, state: AddressState, nowIso: string): Promise<void> {
      const json = JSON.stringify(state);
      await q
        .insertInto('ddos_addresses')
        .values({ address: key, state_json: json, updated_at: nowIso })
        .onConflict((oc) => oc.column('address').doUpdateSet({ state_json: json, updated_at: nowIso }))
        .execute();
    },
  };
}
export type DdosStore = ReturnType<typeof createDdosStore>;
