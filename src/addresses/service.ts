/**
 * Floating and primary IPs: allocate from the region's public plan (IPAM), assign to a server of the
 * region (an action its host finishes by routing and announcing the address), unassign, set reverse DNS
 * names, release. One transaction each, with its event; refusals change nothing.
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
import { addressIn64, createIpam, publicPool, retryOnAddressRace } from '../networks/index.ts';
import type {
  Action,
  ActionAccepted,
  ChangeDnsPtrBody,
  CreateFloatingIpBody,
  CreatePrimaryIpBody,
  DnsPtr,
  EventPayloads,
  FloatingIp,
  FloatingIpList,
  ListAddressesQuery,
  PrimaryIp,
  PrimaryIpList,
  UpdatePrimaryIpBody,
} from '../contract/index.ts';
import { createAddressStore, type AddressKind, type AddressRecord } from './store.ts';
import { floatingIpView, primaryIpView } from './views.ts';
import { createPublicAddressAllocator } from './allocate.ts';
import { defaultAddressPlans, type RegionAddressPlan } from './plan.ts';

type AddressEventType = Extract<keyof EventPayloads, `floating_ip.${string}` | `primary_ip.${string}`>;

export interface AddressServers {
  findServer(q: Tx | Db, projectId: string, ref: string, options?: { lock?: boolean }): Promise<ServerRef | null>;
  serverRefs(q: Tx | Db, serverIds: readonly string[]): Promise<Map<string, ServerRef>>;
  /** The live servers placed on a host (the address sync reads only what concerns one host). */
  serverIdsOnHost(q: Tx | Db, hostId: string): Promise<string[]>;
}

export interface AddressesDeps {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  events: EventRecorder;
  catalog: CatalogService;
  actions: ResourceActions;
  servers: AddressServers;
  /** Region code → public address plan (defaults: documentation ranges). */
  addressPlans?: Record<string, RegionAddressPlan>;
  onDesiredStateChanged?: (hostId: string) => void;
}

const resourceTypeOf = { floating: 'floating_ip', primary: 'primary_ip' } as const;
const labelOf = { floating: 'floating IP', primary: 'primary IP' } as const;

export function createAddressService(deps: AddressesDeps) {
  const { db, clock } = deps;
  const store = createAddressStore(db, deps.dialect);
  const ipam = createIpam(db);
  const allocator = createPublicAddressAllocator(ipam);
  const plans = deps.addressPlans ?? defaultAddressPlans;

  const recordEvent = <T extends AddressEventType>(
    tx: Tx,
    hooks: TxHooks,
    type: T,
    address: AddressRecord,
    data: EventPayloads[T],
  ) =>
    deps.events.record(tx, hooks, {
      type,
      projectId: address.projectId,
      resourceType: resourceTypeOf[address.kind],
      resourceId: address.id,
      data,
    } as EventInput<T>);

  const notify = (hooks: TxHooks, hostIds: (string | null | undefined)[]) => {
    if (!deps.onDesiredStateChanged) return;
    const unique = [...new Set(hostIds.filter((id): id is string => typeof id === 'string'))];
    hooks.afterCommit(() => unique.forEach((id) => deps.onDesiredStateChanged!(id)));
  };

  async function regionOf(code: string) {
    return deps.catalog.getRegionRecord(code.toLowerCase()).catch(() => {
      throw invalid(`unknown region ${code}`, {
        reason: 'unknown_region',
        fields: [{ field: 'region', message: `unknown region ${code}` }],
      });
    });
  }

  async function liveOrNotFound(q: Tx | Db, kind: AddressKind, projectId: string, ref: string, lock = false) {
    const address = await store.live(q, kind, projectId, ref, { lock });
    if (!address) throw notFound(resourceTypeOf[kind], ref);
    return address;
  }

  async function hostOf(q: Tx | Db, serverId: string | null): Promise<string | null> {
    if (!serverId) return null;
    return (await deps.servers.serverRefs(q, [serverId])).get(serverId)?.hostId ?? null;
  }

  /** Starts the move of `address` to `server` (null: unassign), with its action and event. */
  async function move(tx: Tx, hooks: TxHooks, address: AddressRecord, server: ServerRef | null): Promise<Action> {
    const previous = address.serverId;
    const previousHost = await hostOf(tx, previous);
    await store.change(tx, address.kind, address.id, { serverId: server?.id ?? null }, clock.nowIso());
    const action = await deps.actions.start(tx, {
      projectId: address.projectId,
      resourceType: resourceTypeOf[address.kind],
      resourceId: address.id,
      command: server ? 'assign' : 'unassign',
      target: { serverId: server?.id ?? null },
    });
    if (server && address.kind === 'floating')
      await recordEvent(tx, hooks, 'floating_ip.assigned', address, {
        server_id: server.id,
        previous_server_id: previous,
        action_id: action.id,
      });
    else if (server)
      await recordEvent(tx, hooks, 'primary_ip.assigned', address, { server_id: server.id, action_id: action.id });
    else if (previous)
      await recordEvent(
        tx,
        hooks,
        address.kind === 'floating' ? 'floating_ip.unassigned' : 'primary_ip.unassigned',
        address,
        {
          server_id: previous,
          action_id: action.id,
        },
      );
    // Already where it is to be (nothing routed anywhere, or routed there): done at once.
    if ((server?.id ?? null) === address.observedServerId)
      await deps.actions.finish(tx, hooks, { ...action }, { ok: true });
    notify(hooks, [previousHost, server?.hostId, await hostOf(tx, address.observedServerId)]);
    return deps.actions.view(tx, action.id);
  }

  /** The server an address goes to: the caller's, live, in the address's region. */
  async function targetServer(tx: Tx, address: AddressRecord, ref: string): Promise<ServerRef> {
    const server = await deps.servers.findServer(tx, address.projectId, ref, { lock: true });
    if (!server || server.deleted) throw notFound('server', ref);
    if (server.desiredState === 'deleted')
      throw conflict(`server ${server.name} is being deleted`, { reason: 'server_deleting' });
    if (server.region !== address.region)
      throw conflict(
        `${labelOf[address.kind]} ${address.ip} is in ${address.region.toUpperCase()} and server ${server.name} in ${server.region.toUpperCase()}: it can only go to servers of its region`,
        { reason: 'region_mismatch' },
      );
    if (address.kind === 'primary') {
      const others = (await store.ofServers(tx, 'primary', [server.id])).filter(
        (other) => other.type === address.type && other.id !== address.id,
      );
      if (others.length > 0)
        throw conflict(`server ${server.name} has a primary ${address.type} already (${others[0].ip})`, {
          reason: 'primary_ip_taken',
          details: { primary_ip_id: others[0].id },
        });
    }
    return server;
  }

  /** The reverse DNS names after setting (or removing) one; the address must be the IP or inside its /64. */
  function withDnsPtr(address: AddressRecord, body: ChangeDnsPtrBody): DnsPtr[] {
    const ip = address.type === 'ipv4' ? (body.ip === address.ip ? body.ip : null) : addressIn64(address.ip, body.ip);
    if (ip === null)
      throw invalid(`${body.ip} is not ${address.type === 'ipv4' ? address.ip : `inside ${address.ip}`}`, {
        reason: 'ip_outside_subnet',
        fields: [{ field: 'ip', message: `not an address of ${address.ip}` }],
      });
    const rest = address.dnsPtr.filter((entry) => entry.ip !== ip);
    return body.dns_ptr === null
      ? rest
      : [...rest, { ip, dns_ptr: body.dns_ptr }].sort((a, b) => a.ip.localeCompare(b.ip));
  }

  async function list(kind: AddressKind, principal: Principal, query: ListAddressesQuery) {
    const caller = requireProject(principal, 'viewer');
    const limit = pageLimitOf(query.limit);
    const selector = query.label_selector ? parseSelector(query.label_selector) : [];
    const prefix = kind === 'floating' ? 'fip' : 'pip';
    let after: string | null = null;
    if (query.cursor) {
      after = Buffer.from(query.cursor, 'base64url').toString();
      if (!new RegExp(`^${prefix}_[0-9a-z]{26}$`).test(after))
        throw invalid('cursor is not valid', {
          fields: [{ field: 'cursor', message: 'not a cursor returned by this API' }],
        });
    }
    const { page, nextAfterId } = await filteredKeysetPage({
      limit,
      afterId: after,
      read: (afterId, batch) =>
        store.list(kind, {
          projectId: caller.projectId,
          afterId,
          limit: batch,
          name: query.name,
          region: query.region?.toLowerCase(),
          serverId: query.server_id,
          type: query.type,
        }),
      keep: selector.length > 0 ? (row) => matchesSelector(row.labels, selector) : undefined,
    });
    return {
      page,
      next_cursor: nextAfterId ? Buffer.from(nextAfterId).toString('base64url') : null,
    };
  }

  async function release(tx: Tx, hooks: TxHooks, address: AddressRecord) {
    await store.change(tx, address.kind, address.id, { deletedAt: clock.nowIso() }, clock.nowIso());
    await ipam.release(tx, publicPool(address.type, address.region), address.ip);
    allocator.released(address.type, address.region, plans[address.region], address.ip);
    await recordEvent(tx, hooks, address.kind === 'floating' ? 'floating_ip.deleted' : 'primary_ip.deleted', address, {
      ip: address.ip,
    });
  }

  async function remove(kind: AddressKind, principal: Principal, ref: string): Promise<void> {
    const caller = requireProject(principal, 'member');
    await inTransaction(db, async (tx, hooks) => {
      const address = await liveOrNotFound(tx, kind, caller.projectId, ref, true);
      if (address.serverId !== null || address.observedServerId !== null)
        throw conflict(`${labelOf[kind]} ${address.ip} is assigned to a server: unassign it first`, {
          reason: 'address_assigned',
          details: { server_id: address.serverId ?? address.observedServerId },
        });
      await release(tx, hooks, address);
    });
  }

  async function assign(
    kind: AddressKind,
    principal: Principal,
    ref: string,
    serverRef: string,
  ): Promise<ActionAccepted> {
    const caller = requireProject(principal, 'member');
    return inTransaction(db, async (tx, hooks) => {
      const address = await liveOrNotFound(tx, kind, caller.projectId, ref, true);
      const server = await targetServer(tx, address, serverRef);
      const running = (await deps.actions.running(tx, address.id)).find(
        (a) => a.command === 'assign' && a.target.serverId === server.id,
      );
      if (running && address.serverId === server.id) return { action: await deps.actions.view(tx, running.id) };
      return { action: await move(tx, hooks, address, server) };
    });
  }

  async function unassign(kind: AddressKind, principal: Principal, ref: string): Promise<ActionAccepted> {
    const caller = requireProject(principal, 'member');
    return inTransaction(db, async (tx, hooks) => {
      const address = await liveOrNotFound(tx, kind, caller.projectId, ref, true);
      if (address.serverId === null)
        throw conflict(`${labelOf[kind]} ${address.ip} is not assigned`, { reason: 'not_assigned' });
      return { action: await move(tx, hooks, address, null) };
    });
  }

  async function changeDnsPtr(kind: AddressKind, principal: Principal, ref: string, body: ChangeDnsPtrBody) {
    const caller = requireProject(principal, 'member');
    return inTransaction(db, async (tx, hooks) => {
      const address = await liveOrNotFound(tx, kind, caller.projectId, ref, true);
      const dnsPtr = withDnsPtr(address, body);
      await store.change(tx, kind, address.id, { dnsPtr }, clock.nowIso());
      const ip = dnsPtr.find((entry) => entry.dns_ptr === body.dns_ptr)?.ip ?? body.ip;
      await recordEvent(
        tx,
        hooks,
        kind === 'floating' ? 'floating_ip.dns_ptr_changed' : 'primary_ip.dns_ptr_changed',
        address,
        {
          ip,
          dns_ptr: body.dns_ptr,
        },
      );
      return (await store.live(tx, kind, caller.projectId, address.id))!;
    });
  }

  /** Creates the record and claims its address; retried while concurrent creates race for one address. */
  async function create(
    input: Omit<AddressRecord, 'id' | 'ip' | 'serverId' | 'observedServerId' | 'dnsPtr' | 'createdAt' | 'updatedAt'>,
    serverRef: string | undefined,
  ): Promise<{ address: AddressRecord; action: Action | null }> {
    return retryOnAddressRace(
      () =>
        inTransaction(db, async (tx, hooks) => {
          const now = clock.nowIso();
          const id = newId(input.kind === 'floating' ? 'floatingIp' : 'primaryIp', clock.nowMs());
          const ip = await allocator.allocate(tx, {
            region: input.region,
            type: input.type,
            plan: plans[input.region],
            ownerId: id,
            nowIso: now,
          });
          const address: AddressRecord = {
            ...input,
            id,
            ip,
            serverId: null,
            observedServerId: null,
            dnsPtr: [],
            createdAt: now,
            updatedAt: now,
          };
          await store.insert(tx, address);
          if (address.kind === 'floating')
            await recordEvent(tx, hooks, 'floating_ip.created', address, {
              region: address.region,
              type: address.type,
              ip,
            });
          else
            await recordEvent(tx, hooks, 'primary_ip.created', address, {
              region: address.region,
              type: address.type,
              ip,
              server_id: null,
            });
          if (serverRef === undefined) return { address, action: null };
          const server = await targetServer(tx, address, serverRef);
          const action = await move(tx, hooks, address, server);
          return { address: { ...address, serverId: server.id }, action };
        }),
      () => conflict('the region’s public pool was contended for too long; try again', { reason: 'retry' }),
    );
  }

  return {
    /**
     * The public addresses routed to these servers now — primary and floating, IPv4 addresses and IPv6 /64s
     * (what a host's DDoS fast path watches for them): server id → addresses.
     */
    async publicAddressesOfServers(serverIds: readonly string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      for (const kind of ['primary', 'floating'] as const)
        for (const a of await store.routedForServers(db, kind, serverIds)) {
          const serverId = a.serverId ?? a.observedServerId;
          if (!serverId) continue;
          const list = out.get(serverId) ?? [];
          if (!list.includes(a.ip)) list.push(a.ip);
          out.set(serverId, list);
        }
      return out;
    },

    // ---------------- floating IPs ----------------
    async createFloatingIp(principal: Principal, body: CreateFloatingIpBody) {
      const caller = requireProject(principal, 'member');
      const region = await regionOf(body.region);
      const labels = validateLabels(body.labels);
      const { address, action } = await create(
        {
          kind: 'floating',
          projectId: caller.projectId,
          name: body.name ?? '',
          region: region.code,
          type: body.type ?? 'ipv4',
          labels,
          description: body.description ?? '',
          autoDelete: false,
        },
        body.server,
      );
      return { floating_ip: floatingIpView(address), action };
    },
    async listFloatingIps(principal: Principal, query: ListAddressesQuery): Promise<FloatingIpList> {
      const { page, next_cursor } = await list('floating', principal, query);
      return { floating_ips: page.map(floatingIpView), next_cursor };
    },
    async getFloatingIp(principal: Principal, ref: string): Promise<{ floating_ip: FloatingIp }> {
      const caller = requireProject(principal, 'viewer');
      return { floating_ip: floatingIpView(await liveOrNotFound(db, 'floating', caller.projectId, ref)) };
    },
    deleteFloatingIp: (principal: Principal, ref: string) => remove('floating', principal, ref),
    assignFloatingIp: (principal: Principal, ref: string, server: string) => assign('floating', principal, ref, server),
    unassignFloatingIp: (principal: Principal, ref: string) => unassign('floating', principal, ref),
    async changeFloatingIpDnsPtr(principal: Principal, ref: string, body: ChangeDnsPtrBody) {
      return { floating_ip: floatingIpView(await changeDnsPtr('floating', principal, ref, body)) };
    },

    // ---------------- primary IPs ----------------
    async createPrimaryIp(principal: Principal, body: CreatePrimaryIpBody): Promise<{ primary_ip: PrimaryIp }> {
      const caller = requireProject(principal, 'member');
      const region = await regionOf(body.region);
      const labels = validateLabels(body.labels);
      if (await store.nameTaken(db, caller.projectId, body.name))
        throw conflict(`a primary IP named ${body.name} already exists`, {
          reason: 'name_taken',
          fields: [{ field: 'name', message: 'already used' }],
        });
      try {
        const { address } = await create(
          {
            kind: 'primary',
            projectId: caller.projectId,
            name: body.name,
            region: region.code,
            type: body.type,
            labels,
            description: '',
            autoDelete: body.auto_delete ?? false,
          },
          body.server,
        );
        return { primary_ip: primaryIpView(address) };
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`a primary IP named ${body.name} already exists`, { reason: 'name_taken' });
        throw error;
      }
    },
    async listPrimaryIps(principal: Principal, query: ListAddressesQuery): Promise<PrimaryIpList> {
      const { page, next_cursor } = await list('primary', principal, query);
      return { primary_ips: page.map(primaryIpView), next_cursor };
    },
    async getPrimaryIp(principal: Principal, ref: string): Promise<{ primary_ip: PrimaryIp }> {
      const caller = requireProject(principal, 'viewer');
      return { primary_ip: primaryIpView(await liveOrNotFound(db, 'primary', caller.projectId, ref)) };
    },
    async updatePrimaryIp(
      principal: Principal,
      ref: string,
      body: UpdatePrimaryIpBody,
    ): Promise<{ primary_ip: PrimaryIp }> {
      const caller = requireProject(principal, 'member');
      const labels = body.labels === undefined ? undefined : validateLabels(body.labels);
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const address = await liveOrNotFound(tx, 'primary', caller.projectId, ref, true);
          await store.change(
            tx,
            'primary',
            address.id,
            { name: body.name, autoDelete: body.auto_delete, labels },
            clock.nowIso(),
          );
          const updated = (await store.live(tx, 'primary', caller.projectId, address.id))!;
          await recordEvent(tx, hooks, 'primary_ip.updated', updated, {
            name: updated.name,
            auto_delete: updated.autoDelete,
          });
          return { primary_ip: primaryIpView(updated) };
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`a primary IP named ${body.name} already exists`, { reason: 'name_taken' });
        throw error;
      }
    },
    deletePrimaryIp: (principal: Principal, ref: string) => remove('primary', principal, ref),
    assignPrimaryIp: (principal: Principal, ref: string, server: string) => assign('primary', principal, ref, server),
    unassignPrimaryIp: (principal: Principal, ref: string) => unassign('primary', principal, ref),
    async changePrimaryIpDnsPtr(principal: Principal, ref: string, body: ChangeDnsPtrBody) {
      return { primary_ip: primaryIpView(await changeDnsPtr('primary', principal, ref, body)) };
    },

    // ---------------- servers' lifecycle (event consumer) ----------------
    /**
     * A new server gets its IPv6 /64 as a primary IP (`auto_delete: true`); a server gone for good loses
     * its addresses: primary IPs with `auto_delete` are released, the others and floating IPs unassigned.
     * Idempotent per server (the consumer delivers at least once).
     */
    async onServerCreated(
      tx: Tx,
      hooks: TxHooks,
      server: { id: string; projectId: string; name: string; region: string },
    ): Promise<void> {
      if (!plans[server.region]) return;
      const existing = await store.ofServers(tx, 'primary', [server.id]);
      if (existing.some((address) => address.type === 'ipv6')) return;
      let name = `${server.name}-ipv6`.slice(0, 63);
      if (await store.nameTaken(tx, server.projectId, name)) name = `${server.id}-ipv6`.slice(0, 63);
      const now = clock.nowIso();
      const id = newId('primaryIp', clock.nowMs());
      const ip = await allocator.allocate(tx, {
        region: server.region,
        type: 'ipv6',
        plan: plans[server.region],
        ownerId: id,
        nowIso: now,
      });
      const address: AddressRecord = {
        kind: 'primary',
        id,
        projectId: server.projectId,
        name,
        region: server.region,
        type: 'ipv6',
        ip,
        serverId: server.id,
        observedServerId: null,
        dnsPtr: [],
        labels: {},
        description: '',
        autoDelete: true,
        createdAt: now,
        updatedAt: now,
      };
      await store.insert(tx, address);
      await recordEvent(tx, hooks, 'primary_ip.created', address, {
        region: address.region,
        type: 'ipv6',
        ip,
        server_id: server.id,
      });
    },

    async onServersDeleted(tx: Tx, hooks: TxHooks, serverIds: string[]): Promise<void> {
      for (const kind of ['floating', 'primary'] as const)
        for (const address of await store.ofServers(tx, kind, serverIds)) {
          for (const action of await deps.actions.running(tx, address.id))
            await deps.actions.finish(tx, hooks, action, {
              ok: false,
              code: 'server_deleted',
              message: 'the server was deleted',
            });
          await store.change(tx, kind, address.id, { serverId: null, observedServerId: null }, clock.nowIso());
          if (kind === 'primary' && address.autoDelete) await release(tx, hooks, address);
          else
            await recordEvent(
              tx,
              hooks,
              kind === 'floating' ? 'floating_ip.unassigned' : 'primary_ip.unassigned',
              address,
              {
                server_id: address.serverId!,
                action_id: null,
              },
            );
        }
    },
  };
}

export type AddressService = ReturnType<typeof createAddressService>;
