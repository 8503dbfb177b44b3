/** The only code that names `host_network_reports`: the last network report of each host's agent. */
import type { Db } from '../db/index.ts';
import type { ObservedHostNetwork } from '../contract/index.ts';

export interface HostNetworkReport {
  observed: ObservedHostNetwork;
  reportedAt: string;
}

export function createHostNetworkStore(db: Db) {
  return {
    async save(hostId: string, observed: ObservedHostNetwork, reportedAt: string): Promise<void> {
      const row = { host_id: hostId, observed_json: JSON.stringify(observed), reported_at: reportedAt };
      await db
        .insertInto('host_network_reports')
        .values(row)
        .onConflict((oc) =>
          oc.column('host_id').doUpdateSet({ observed_json: row.observed_json, reported_at: row.reported_at }),
        )
        .execute();
    },
    async get(hostId: string): Promise<HostNetworkReport | null> {
      const row = await db
        .selectFrom('host_network_reports')
        .select(['observed_json', 'reported_at'])
        .where('host_id', '=', hostId)
        .executeTakeFirst();
      return row
        ? { observed: JSON.parse(row.observed_json) as ObservedHostNetwork, reportedAt: row.reported_at }
        : null;
    },
  };
}
