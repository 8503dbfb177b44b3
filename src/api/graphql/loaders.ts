/**
 * Per-request DataLoaders: a nested field asked for many parents (each server's volumes, each volume's
 * server) is answered by one paged read of the project's list through the same service, whatever the
 * number of parents — not one query per parent.
 */
import DataLoader from 'dataloader';
import type { Principal } from '../../identity/index.ts';
import type { Action, Server, ServerNetwork, Volume } from '../../contract/index.ts';
import { customerCapacity } from '../../inventory/index.ts';
import type { GraphqlContext } from './module.ts';
import type { GraphqlServices } from './services.ts';

async function allPages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; next: string | null }>) {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const answer = await page(cursor);
    items.push(...answer.items);
    if (!answer.next) return items;
    cursor = answer.next;
  }
}

export function createLoaders(principal: Principal, services: GraphqlServices): GraphqlContext['loaders'] {
  return {
    server: new DataLoader<string, Server | null>(async (ids) => {
      const servers = await allPages(async (cursor) => {
        const page = await services.compute.listServers(principal, { limit: '500', cursor });
        return { items: page.servers, next: page.next_cursor };
      });
      const byId = new Map(servers.map((s) => [s.id, s]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    capacity: new DataLoader<'all', ReturnType<typeof customerCapacity>>(async (keys) => {
      const statuses = new Map((await services.catalog.listRegions()).map((r) => [r.code, r.status]));
      const view = customerCapacity(await services.scheduler.capacity(), statuses);
      return keys.map(() => view);
    }),
    actionsOfServer: new DataLoader<string, Action[]>(async (serverIds) => {
      const byServer = await services.compute.recentActionsOf(principal, serverIds, 20);
      return serverIds.map((id) => byServer.get(id) ?? []);
    }),
    networksOfServer: new DataLoader<string, ServerNetwork[]>(async (serverIds) => {
      const byServer = await services.networks.networksOfServers(principal, serverIds);
      return serverIds.map((id) => byServer.get(id) ?? []);
    }),
    volumesOfServer: new DataLoader<string, Volume[]>(async (serverIds) => {
      const volumes = await allPages(async (cursor) => {
        const page = await services.volumes.listVolumes(principal, { limit: '500', cursor });
        return { items: page.volumes, next: page.next_cursor };
      });
      return serverIds.map((id) => volumes.filter((v) => v.server_id === id));
    }),
  };
}
