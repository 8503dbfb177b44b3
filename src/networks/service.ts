/**
 * Private networks: create (range checks, VNI), list, show, rename, subnets, routes, delete, and the
 * attachment of servers (IPAM, the attach/detach actions the hosts finish). Each mutation is one
 * transaction with its event; attachments change desired state that the agents converge (sync.ts).
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import { conflict, filteredKeysetPage, invalid, newId, notFound, type Clock, pageLimitOf } from '../core/index.ts';
import type { EventInput, EventRecorder } from '../events/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { requireProject, type Principal } from '../identity/index.ts';
import {
  matchesSelector,
  parseSelector,
  validateLabels,
  type ResourceActions,
  type ServerRef,
} from '../compute/index.ts';
import { privateMac } from '../network/index.ts';
import type {
  ActionAccepted,
  AttachNetworkBody,
  CreateNetworkBody,
  EventPayloads,
  ListNetworksQuery,
  Network,
  NetworkList,
  NetworkRoute,
  ServerNetwork,
  ServerNetworkList,
  UpdateNetworkBody,
} from '../contract/index.ts';
import { createNetworkStore, type NetworkRecord, type NetworkStore } from './store.ts';
import { networkView, serverNetworksView } from './views.ts';
import { firstFree, gatewayOf, isAssignable, overlaps, parseRange, rangeText, type Range } from './cidr.ts';
import { checkRoute, parseNetworkRange, parseSubnet } from './validation.ts';
import { AddressRace, createIpam, privatePool, retryOnAddressRace } from './ipam.ts';

type NetworkEventType = Extract<keyof EventPayloads, `network.${string}`>;

/** What the networks domain needs of servers (compute). */
export interface NetworkServers {
  findServer(q: Tx | Db, projectId: string, ref: string, options?: { lock?: boolean }): Promise<ServerRef | null>;
  serverRefs(q: Tx | Db, serverIds: readonly string[]): Promise<Map<string, ServerRef>>;
}

export interface NetworksDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
  catalog: CatalogService;
  actions: ResourceActions;
  servers: NetworkServers;
  /** The MTU of private interfaces: the underlay's (1500) minus VXLAN over IPv4 (50). */
  mtu?: number;
  /** The first VNI handed out (lower ones are left to the operator). */
  firstVni?: number;
  /** NICs a server may have on private networks. */
  maxNetworksPerServer?: number;
  /** Told after commit which hosts have new desired state, so their agents act at once. */
  onDesiredStateChanged?: (hostId: string) => void;
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  if (!/^net_[0-9a-z]{26}$/.test(id))
    throw invalid('cursor is not valid', {
      fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
    });
  return id;
}

export function createNetworkService(deps: NetworksDeps) {
  const { db, clock } = deps;
  const store: NetworkStore = createNetworkStore(db, deps.dialect);
  const ipam = createIpam(db);
  const mtu = deps.mtu ?? 1450;
  const maxNics = deps.maxNetworksPerServer ?? 8;

  const recordEvent = <T extends NetworkEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    network: { id: string; projectId: string },
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: network.projectId,
      resourceType: 'network',
      resourceId: network.id,
      data,
    } as EventInput<T>);

  const notify = (hooks: TxHooks, hostIds: Iterable<string | null>) => {
    if (!deps.onDesiredStateChanged) return;
    const unique = [...new Set([...hostIds].filter((id): id is string => id !== null))];
    hooks.afterCommit(() => unique.forEach((id) => deps.onDesiredStateChanged!(id)));
  };

  /** Every host with a server on the network: their forwarding entries change with any attachment. */
  async function hostsOfNetwork(tx: Tx, networkId: string, extra: (string | null)[] = []): Promise<(string | null)[]> {
    const attachments = await store.attachments(tx, [networkId]);
    const refs = await deps.servers.serverRefs(
      tx,
      attachments.map((a) => a.serverId),
    );
    return [...[...refs.values()].map((r) => r.hostId), ...extra];
  }

  async function views(q: Tx | Db, networks: NetworkRecord[]): Promise<Network[]> {
    const ids = networks.map((n) => n.id);
    const [subnets, routes, attachments] = await Promise.all([
      store.subnets(q, ids),
      store.routes(q, ids),
      store.attachments(q, ids),
    ]);
    return networks.map((n) => networkView(n, { subnets, routes, attachments }));
  }
  const viewOne = async (q: Tx | Db, network: NetworkRecord) => (await views(q, [network]))[0];

  /** The private networks of servers of one project, in one read for all of them (each server's list, maybe empty). */
  async function networksOfServers(projectId: string, serverIds: readonly string[]) {
    const attachments = (await store.attachmentsOfServers(db, [...serverIds])).filter((a) => a.projectId === projectId);
    const ids = [...new Set(attachments.map((a) => a.networkId))];
    const [networks, subnets] = await Promise.all([store.byIds(db, ids), store.subnets(db, ids)]);
    return new Map<string, ServerNetwork[]>(
      serverIds.map((id) => [
        id,
        serverNetworksView(
          attachments.filter((a) => a.serverId === id),
          networks,
          subnets,
        ),
      ]),
    );
  }

  async function liveOrNotFound(q: Tx | Db, projectId: string, ref: string, lock = false) {
    const network = await store.liveNetwork(q, projectId, ref, { lock });
    if (!network) throw notFound('network', ref);
    return network;
  }

  const subnetRanges = async (q: Tx | Db, networkId: string): Promise<Range[]> =>
    (await store.subnets(q, [networkId])).map((s) => parseRange(s.ipRange) as Range);

  /** Public pools (the regions' server pools) a private range must stay clear of. */
  async function publicPoolClash(range: Range): Promise<string | null> {
    for (const region of await deps.catalog.listRegions()) {
      const record = await deps.catalog.getRegionRecord(region.code);
      const pool = parseRange(record.ipv4Pool);
      if (typeof pool !== 'string' && overlaps(pool, range))
        return `${record.ipv4Pool} (public pool of ${region.code})`;
    }
    return null;
  }

  const nameTaken = (name: string) =>
    conflict(`a network named ${name} already exists in this project`, {
      reason: 'name_taken',
      fields: [{ field: 'name', message: 'already used' }],
    });

  /**
   * Attaches a server to a network inside the caller's transaction (the attach action and the create of a
   * server with `networks`). An address taken by a concurrent attach throws AddressRace: run it again.
   */
  async function attachInTx(
    tx: Tx,
    hooks: TxHooks,
    projectId: string,
    serverRef: string,
    body: AttachNetworkBody,
  ): Promise<string> {
    const server = await deps.servers.findServer(tx, projectId, serverRef, { lock: true });
    if (!server || server.deleted) throw notFound('server', serverRef);
    const network = await liveOrNotFound(tx, projectId, body.network, true);
    if (server.desiredState === 'deleted')
      throw conflict(`server ${server.name} is being deleted`, { reason: 'server_deleting' });
    if (server.region !== network.region)
      throw conflict(
        `network ${network.name} is in ${network.region.toUpperCase()} and server ${server.name} in ${server.region.toUpperCase()}`,
        { reason: 'region_mismatch' },
      );
    const current = await store.attachmentsOfServers(tx, [server.id]);
    const existing = current.find((a) => a.networkId === network.id);
    if (existing)
      throw conflict(`server ${server.name} is attached to network ${network.name} already (${existing.ip})`, {
        reason: 'already_attached',
        details: { ip: existing.ip, attachment_status: existing.status },
      });
    if (current.length >= maxNics)
      throw conflict(`server ${server.name} is on ${current.length} networks: the limit is ${maxNics}`, {
        reason: 'too_many_networks',
      });
    const subnets = await subnetRanges(tx, network.id);
    const pool = privatePool(network.id);
    const taken = await ipam.taken(tx, pool);
    let ip: string;
    if (body.ip !== undefined) {
      if (!subnets.some((subnet) => isAssignable(subnet, body.ip!)))
        throw invalid(`${body.ip} is not a server address inside a subnet of network ${network.name}`, {
          reason: 'ip_outside_subnet',
          fields: [{ field: 'ip', message: 'outside the subnets (or their network, gateway, broadcast address)' }],
        });
      if (taken.has(body.ip))
        throw conflict(`${body.ip} is in use on network ${network.name}`, {
          reason: 'ip_taken',
          fields: [{ field: 'ip', message: 'in use' }],
        });
      ip = body.ip;
    } else {
      const free = subnets.map((subnet) => firstFree(subnet, taken)).find((candidate) => candidate !== null);
      if (!free) throw conflict(`network ${network.name} has no free address`, { reason: 'network_full' });
      ip = free;
    }
    const now = clock.nowIso();
    try {
      await ipam.claim(tx, pool, ip, `${network.id}/${server.id}`, now);
    } catch (error) {
      // An asked address taken by a concurrent attach: refused, never retried.
      if (body.ip !== undefined)
        throw conflict(`${body.ip} is in use on network ${network.name}`, { reason: 'ip_taken' });
      throw error;
    }
    await store.insertAttachment(tx, {
      networkId: network.id,
      serverId: server.id,
      projectId: projectId,
      ip,
      mac: privateMac(server.id, network.id),
      status: 'attaching',
      createdAt: now,
      updatedAt: now,
    });
    const action = await deps.actions.start(tx, {
      projectId: projectId,
      resourceType: 'network',
      resourceId: network.id,
      command: 'attach_server',
      target: { serverId: server.id, status: 'attached' },
    });
    await recordEvent(tx, hooks, 'network.server_attaching', network, {
      server_id: server.id,
      ip,
      action_id: action.id,
    });
    notify(hooks, await hostsOfNetwork(tx, network.id, [server.hostId]));
    return action.id;
  }

  return {
    async createNetwork(principal: Principal, body: CreateNetworkBody): Promise<{ network: Network }> {
      const caller = requireProject(principal, 'member');
      const labels = validateLabels(body.labels);
      const region = await deps.catalog.getRegionRecord(body.region.toLowerCase()).catch(() => {
        throw invalid(`unknown region ${body.region}`, {
          reason: 'unknown_region',
          fields: [{ field: 'region', message: `unknown region ${body.region}` }],
        });
      });
      const range = parseNetworkRange(body.ip_range);
      const subnets: Range[] = [];
      (body.subnets ?? [{ ip_range: body.ip_range }]).forEach((subnet, i) =>
        subnets.push(parseSubnet(subnet.ip_range, range, subnets, `subnets[${i}].ip_range`)),
      );
      const routes = (body.routes ?? []).map((route, i) => checkRoute(route, subnets, `routes[${i}]`));
      const clash = await publicPoolClash(range);
      if (clash)
        throw conflict(`${body.ip_range} overlaps ${clash}`, {
          reason: 'ip_range_overlap',
          fields: [{ field: 'ip_range', message: `overlaps ${clash}` }],
        });
      try {
        return await inTransaction(db, async (tx, hooks) => {
          await store.lockProjectRanges(tx, caller.projectId);
          for (const other of await store.projectNetworks(tx, caller.projectId)) {
            if (overlaps(parseRange(other.ipRange) as Range, range))
              throw conflict(`${body.ip_range} overlaps network ${other.name} (${other.ipRange})`, {
                reason: 'ip_range_overlap',
                fields: [{ field: 'ip_range', message: `overlaps ${other.name}` }],
                details: { network_id: other.id },
              });
          }
          const now = clock.nowIso();
          const network: NetworkRecord = {
            id: newId('network', clock.nowMs()),
            projectId: caller.projectId,
            name: body.name,
            region: region.code,
            ipRange: rangeText(range),
            vni: await store.nextVni(tx, deps.firstVni ?? 100),
            mtu,
            labels,
            createdAt: now,
            updatedAt: now,
          };
          await store.insert(tx, network);
          for (const subnet of subnets)
            await store.insertSubnet(
              tx,
              { networkId: network.id, ipRange: rangeText(subnet), gateway: gatewayOf(subnet) },
              now,
            );
          for (const route of routes) await store.insertRoute(tx, { networkId: network.id, ...route }, now);
          await recordEvent(tx, hooks, 'network.created', network, {
            name: network.name,
            region: network.region,
            ip_range: network.ipRange,
          });
          return { network: await viewOne(tx, network) };
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          // Either the name, or another create took the same VNI at once: the name is checked first.
          if (await store.liveNetwork(db, caller.projectId, body.name)) throw nameTaken(body.name);
          throw conflict('another network was created at the same moment; try again', { reason: 'retry' });
        }
        throw error;
      }
    },

    async listNetworks(principal: Principal, query: ListNetworksQuery): Promise<NetworkList> {
      const caller = requireProject(principal, 'viewer');
      const limit = pageLimitOf(query.limit);
      const selector = query.label_selector ? parseSelector(query.label_selector) : [];
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const { page, nextAfterId } = await filteredKeysetPage({
        limit,
        afterId: after,
        read: (afterId, batch) =>
          store.list({
            projectId: caller.projectId,
            afterId,
            limit: batch,
            name: query.name,
            region: query.region?.toLowerCase(),
          }),
        keep: selector.length > 0 ? (row) => matchesSelector(row.labels, selector) : undefined,
      });
      return {
        networks: await views(db, page),
        next_cursor: nextAfterId ? encodeCursor(nextAfterId) : null,
      };
    },

    /** The private networks a server of the caller's project is attached to (404 for any other server). */
    async listServerNetworks(principal: Principal, serverRef: string): Promise<ServerNetworkList> {
      const caller = requireProject(principal, 'viewer');
      const server = await deps.servers.findServer(db, caller.projectId, serverRef);
      if (!server || server.deleted) throw notFound('server', serverRef);
      return { networks: (await networksOfServers(caller.projectId, [server.id])).get(server.id)! };
    },

    /**
     * The private networks of several servers of the caller's project, in one read for all of them (GraphQL's
     * `Server.networks`, whose parents are already the caller's servers): another project's attachments never show.
     */
    async networksOfServers(principal: Principal, serverIds: readonly string[]): Promise<Map<string, ServerNetwork[]>> {
      return networksOfServers(requireProject(principal, 'viewer').projectId, serverIds);
    },

    async getNetwork(principal: Principal, ref: string): Promise<{ network: Network }> {
      const caller = requireProject(principal, 'viewer');
      return { network: await viewOne(db, await liveOrNotFound(db, caller.projectId, ref)) };
    },

    async updateNetwork(principal: Principal, ref: string, body: UpdateNetworkBody): Promise<{ network: Network }> {
      const caller = requireProject(principal, 'member');
      const labels = body.labels === undefined ? undefined : validateLabels(body.labels);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const network = await liveOrNotFound(tx, caller.projectId, ref, true);
          await store.update(tx, network.id, { name: body.name, labels }, clock.nowIso());
          const updated = (await store.liveNetwork(tx, caller.projectId, network.id))!;
          await recordEvent(tx, hooks, 'network.updated', network, { name: updated.name });
          return { network: await viewOne(tx, updated) };
        });
      } catch (error) {
        if (isUniqueViolation(error) && body.name) throw nameTaken(body.name);
        throw error;
      }
    },

    async deleteNetwork(principal: Principal, ref: string): Promise<void> {
      const caller = requireProject(principal, 'member');
      await inTransaction(db, async (tx, hooks) => {
        const network = await liveOrNotFound(tx, caller.projectId, ref, true);
        const attachments = await store.attachments(tx, [network.id]);
        if (attachments.length > 0)
          throw conflict(`network ${network.name} has ${attachments.length} server(s) attached: detach them first`, {
            reason: 'network_in_use',
            details: { server_ids: attachments.map((a) => a.serverId) },
          });
        await store.markDeleted(tx, network.id, clock.nowIso());
        await recordEvent(tx, hooks, 'network.deleted', network, { name: network.name });
      });
    },

    async addSubnet(principal: Principal, ref: string, ipRange: string): Promise<{ network: Network }> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const network = await liveOrNotFound(tx, caller.projectId, ref, true);
        const subnet = parseSubnet(
          ipRange,
          parseRange(network.ipRange) as Range,
          await subnetRanges(tx, network.id),
          'ip_range',
        );
        await store.insertSubnet(
          tx,
          { networkId: network.id, ipRange: rangeText(subnet), gateway: gatewayOf(subnet) },
          clock.nowIso(),
        );
        await recordEvent(tx, hooks, 'network.subnet_added', network, { ip_range: rangeText(subnet) });
        notify(hooks, await hostsOfNetwork(tx, network.id));
        return { network: await viewOne(tx, network) };
      });
    },

    async addRoute(principal: Principal, ref: string, body: NetworkRoute): Promise<{ network: Network }> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const network = await liveOrNotFound(tx, caller.projectId, ref, true);
        const route = checkRoute(body, await subnetRanges(tx, network.id), 'route');
        const existing = await store.routes(tx, [network.id]);
        if (existing.some((r) => r.destination === route.destination))
          throw conflict(`network ${network.name} has a route to ${route.destination} already`, {
            reason: 'route_exists',
            fields: [{ field: 'destination', message: 'already routed' }],
          });
        await store.insertRoute(tx, { networkId: network.id, ...route }, clock.nowIso());
        await recordEvent(tx, hooks, 'network.route_added', network, route);
        notify(hooks, await hostsOfNetwork(tx, network.id));
        return { network: await viewOne(tx, network) };
      });
    },

    async deleteRoute(principal: Principal, ref: string, body: NetworkRoute): Promise<{ network: Network }> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const network = await liveOrNotFound(tx, caller.projectId, ref, true);
        const destination = parseRange(body.destination);
        const route = {
          networkId: network.id,
          destination: typeof destination === 'string' ? body.destination : rangeText(destination),
          gateway: body.gateway,
        };
        if ((await store.deleteRoute(tx, route)) === 0)
          throw notFound('route', `${body.destination} via ${body.gateway}`);
        await recordEvent(tx, hooks, 'network.route_deleted', network, {
          destination: route.destination,
          gateway: route.gateway,
        });
        notify(hooks, await hostsOfNetwork(tx, network.id));
        return { network: await viewOne(tx, network) };
      });
    },

    async attachServer(principal: Principal, serverRef: string, body: AttachNetworkBody): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      const exhausted = () =>
        conflict('the network’s addresses were contended for too long; try again', { reason: 'retry' });
      return retryOnAddressRace(
        () =>
          inTransaction(db, async (tx, hooks) => {
            const actionId = await attachInTx(tx, hooks, caller.projectId, serverRef, body);
            return { action: await deps.actions.view(tx, actionId) };
          }),
        exhausted,
      );
    },

    /**
     * The project's live networks named by `refs` (ids or names) for a new server of `region`, read before
     * the create's transaction: an unknown one is refused (400, `networks[i]`), one of another region too (409).
     */
    async networksForNewServer(projectId: string, refs: readonly string[], region: string): Promise<string[]> {
      const ids: string[] = [];
      for (const [i, ref] of refs.entries()) {
        const field = `networks[${i}]`;
        const network = await store.liveNetwork(db, projectId, ref);
        if (!network)
          throw invalid(`${field}: no network ${ref} in this project`, {
            reason: 'unknown_network',
            fields: [{ field, message: `unknown network ${ref}` }],
          });
        if (network.region !== region)
          throw conflict(
            `network ${network.name} is in ${network.region.toUpperCase()} and the server in ${region.toUpperCase()}`,
            { reason: 'region_mismatch', fields: [{ field, message: `in ${network.region}` }] },
          );
        if (ids.includes(network.id))
          throw invalid(`${field}: network ${network.name} is given twice`, {
            reason: 'duplicate_network',
            fields: [{ field, message: 'given twice' }],
          });
        ids.push(network.id);
      }
      if (ids.length > maxNics)
        throw invalid(`a server is on at most ${maxNics} networks`, {
          reason: 'too_many_networks',
          fields: [{ field: 'networks', message: `at most ${maxNics}` }],
        });
      return ids;
    },

    /**
     * Attaches a server being created to its networks, inside the create's transaction (each attachment
     * an attach action the hosts finish, as `attach-network`). A concurrent attach taking the address it
     * chose fails the create with `retry` (409) rather than running the create again.
     */
    async attachNewServer(
      tx: Tx,
      hooks: TxHooks,
      projectId: string,
      serverId: string,
      networkIds: readonly string[],
    ): Promise<void> {
      for (const networkId of networkIds)
        try {
          await attachInTx(tx, hooks, projectId, serverId, { network: networkId });
        } catch (error) {
          if (error instanceof AddressRace)
            throw conflict('the network’s addresses were contended; try again', { reason: 'retry' });
          throw error;
        }
    },

    async detachServer(principal: Principal, serverRef: string, networkRef: string): Promise<ActionAccepted> {
      const caller = requireProject(principal, 'member');
      return inTransaction(db, async (tx, hooks) => {
        const server = await deps.servers.findServer(tx, caller.projectId, serverRef, { lock: true });
        if (!server || server.deleted) throw notFound('server', serverRef);
        const network = await liveOrNotFound(tx, caller.projectId, networkRef, true);
        const attachment = (await store.attachmentsOfServers(tx, [server.id])).find((a) => a.networkId === network.id);
        if (!attachment)
          throw conflict(`server ${server.name} is not attached to network ${network.name}`, {
            reason: 'not_attached',
          });
        const running = (await deps.actions.running(tx, network.id)).find(
          (a) => a.command === 'detach_server' && a.target.serverId === server.id,
        );
        if (running) return { action: await deps.actions.view(tx, running.id) };
        const hosts = await hostsOfNetwork(tx, network.id);
        // An attach still running is overtaken: it fails, the detach follows.
        for (const action of await deps.actions.running(tx, network.id))
          if (action.command === 'attach_server' && action.target.serverId === server.id)
            await deps.actions.finish(tx, hooks, action, {
              ok: false,
              code: 'detached',
              message: 'detached before the host finished attaching',
            });
        await store.setAttachmentStatus(tx, network.id, server.id, 'detaching', clock.nowIso());
        const action = await deps.actions.start(tx, {
          projectId: caller.projectId,
          resourceType: 'network',
          resourceId: network.id,
          command: 'detach_server',
          target: { serverId: server.id, status: 'detached' },
        });
        await recordEvent(tx, hooks, 'network.server_detaching', network, {
          server_id: server.id,
          ip: attachment.ip,
          action_id: action.id,
        });
        notify(hooks, hosts);
        return { action: await deps.actions.view(tx, action.id) };
      });
    },
  };
}

export type NetworkService = ReturnType<typeof createNetworkService>;
