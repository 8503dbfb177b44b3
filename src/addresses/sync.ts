/**
 * The control plane's side of public addresses on hosts: the routes a host should have (every floating
 * or primary IP assigned to a server on it), and what its agent reports routed. A report moves each
 * address's `observed_server_id` and finishes the assign/unassign actions it completes: an address's move
 * is done when the new server's host has it (the old host drops it on its own pass).
 */
import type { Db, Tx } from '../db/index.ts';
import { dialectOfDb, inTransaction } from '../db/index.ts';
import type { Clock } from '../core/index.ts';
import type { ResourceActions } from '../compute/index.ts';
import type { DesiredPublicRoute, ObservedHostNetwork } from '../contract/index.ts';
import { createAddressStore, type AddressRecord } from './store.ts';
import type { AddressServers } from './service.ts';

export interface AddressSyncDeps {
  db: Db;
  clock: Clock;
  actions: ResourceActions;
  servers: AddressServers;
}

export function createAddressSync(deps: AddressSyncDeps) {
  const { db, clock } = deps;
  const store = createAddressStore(db, dialectOfDb(db));

  /**
   * The addresses that concern one host: assigned to, or still observed on, a server placed there (or a
   * server the host reports routing), with those servers. Bounded by the host's servers, not the region's.
   */
  async function routedOnHost(q: Tx | Db, hostId: string, reportedServerIds: readonly string[] = []) {
    const onHost = await deps.servers.serverIdsOnHost(q, hostId);
    const ids = [...new Set([...onHost, ...reportedServerIds])];
    const addresses: AddressRecord[] = [
      ...(await store.routedForServers(q, 'floating', ids)),
      ...(await store.routedForServers(q, 'primary', ids)),
    ];
    const serverIds = addresses.flatMap((a) => [a.serverId, a.observedServerId]).filter((id): id is string => !!id);
    return { addresses, servers: await deps.servers.serverRefs(q, serverIds) };
  }

  return {
    async desiredRoutes(hostId: string, _region: string): Promise<DesiredPublicRoute[]> {
      const { addresses, servers } = await routedOnHost(db, hostId);
      return addresses
        .filter((a) => {
          const server = a.serverId ? servers.get(a.serverId) : undefined;
          return server && !server.deleted && server.hostId === hostId;
        })
        .map((a) => ({ address: a.ip, type: a.type, kind: a.kind, serverId: a.serverId! }));
    },

    async applyReport(hostId: string, _region: string, observed: ObservedHostNetwork['publicRoutes']): Promise<void> {
      const here = new Map(observed.map((route) => [route.address, route.serverId]));
      await inTransaction(db, async (tx, hooks) => {
        const { addresses, servers } = await routedOnHost(tx, hostId, [...here.values()]);
        const running = await deps.actions.runningOf(
          tx,
          addresses.map((a) => a.id),
        );
        for (const address of addresses) {
          const onThisHost = (serverId: string | null) => serverId !== null && servers.get(serverId)?.hostId === hostId;
          let next = address.observedServerId;
          if (here.has(address.ip) && onThisHost(here.get(address.ip)!)) next = here.get(address.ip)!;
          else if (onThisHost(address.observedServerId)) next = null;
          if (next !== address.observedServerId)
            await store.change(tx, address.kind, address.id, { observedServerId: next }, clock.nowIso());
          for (const action of running.get(address.id) ?? [])
            if ((action.target.serverId ?? null) === next && address.serverId === next)
              await deps.actions.finish(tx, hooks, action, { ok: true });
        }
      });
    },
  };
}

export type AddressSync = ReturnType<typeof createAddressSync>;
