/**
 * The firewalls' part of a host's network desired state — for every server of the host, the firewalls
 * that reach it (directly or by a selector matching its labels, read at each pass: a new server is in
 * its host's desired state with its firewalls before its first start) with their rules compiled for the
 * agent — and the counters the host reports back, which replace that host's servers' counters.
 */
import type { Db, DialectName } from '../db/index.ts';
import { inTransaction } from '../db/index.ts';
import type { Clock } from '../core/index.ts';
import type { DesiredServerFirewall, ObservedHostNetwork } from '../contract/index.ts';
import { createFirewallStore, type CounterRecord } from './store.ts';
import { desiredRule } from './rules.ts';
import { firewallsOfServers, type FirewallServers } from './service.ts';

export function createFirewallSync(deps: {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  servers: Pick<FirewallServers, 'labeledServers'>;
}) {
  const { db } = deps;
  const store = createFirewallStore(db, deps.dialect);
  return {
    async desiredFor(hostId: string): Promise<DesiredServerFirewall[]> {
      const servers = await deps.servers.labeledServers(db, { hostId });
      if (servers.length === 0) return [];
      const targets = await store.targetsReaching(
        db,
        servers.map((s) => s.id),
        [...new Set(servers.map((s) => s.projectId))],
      );
      const reach = firewallsOfServers(servers, targets);
      const firewalls = new Map(
        (await store.firewallsByIds(db, [...new Set(targets.map((t) => t.firewallId))])).map((f) => [f.id, f]),
      );
      const out: DesiredServerFirewall[] = [];
      for (const server of servers) {
        const ids = [...reach.get(server.id)!].filter((id) => firewalls.has(id)).sort();
        if (ids.length === 0) continue;
        out.push({
          serverId: server.id,
          firewalls: ids.map((id) => {
            const f = firewalls.get(id)!;
            return { id: f.id, version: f.rulesVersion, rules: f.rules.map(desiredRule) };
          }),
        });
      }
      return out;
    },

    /** A host's report: the counters of its servers' rules (every server of the host: absent ones have none). */
    async applyReport(hostId: string, observed: ObservedHostNetwork['firewalls']): Promise<void> {
      if (!observed) return;
      const now = deps.clock.nowIso();
      const servers = await deps.servers.labeledServers(db, { hostId });
      const ids = new Set(servers.map((s) => s.id));
      const rows: CounterRecord[] = [];
      for (const server of observed) {
        if (!ids.has(server.serverId)) continue;
        for (const firewall of server.firewalls)
          firewall.counters.forEach((c, ruleIndex) =>
            rows.push({
              firewallId: firewall.id,
              serverId: server.serverId,
              ruleIndex,
              rulesVersion: firewall.version,
              packets: c.packets,
              bytes: c.bytes,
              updatedAt: now,
            }),
          );
      }
      await inTransaction(db, (tx) => store.replaceCounters(tx, [...ids], rows));
    },
  };
}

export type FirewallSync = ReturnType<typeof createFirewallSync>;
