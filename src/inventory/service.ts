/**
 * Hosts: the seeded simulated fleet, registration of real hosts by their agents, operator states,
 * heartbeats and health. A host token registers exactly one host, ever, in the same transaction that
 * binds it; a host cannot claim another host's name, point the control plane at loopback or metadata
 * addresses, or store a topology that breaks the scheduler.
 */
import type { Db, Tx, TxHooks } from '../db/index.ts';
import { inTransaction, isUniqueViolation } from '../db/index.ts';
import { coalesce } from '../core/coalesce.ts';
import {
  conflict,
  forbidden,
  invalid,
  newId,
  notFound,
  VmcError,
  type Clock,
  type Logger,
  type MetricFamily,
} from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { FleetEntry } from '../catalog/index.ts';
import type { Host, HostState, HostTopology } from '../contract/index.ts';
import { hostStates } from '../contract/index.ts';
import { hostShapes, topologyOfShape } from './shapes.ts';
import { topologyProblems } from './topology-check.ts';
import { hostAddressProblem, type HostAddressPolicy } from './host-address.ts';
import { createInventoryStore, type HostRecord, type HostSummary } from './store.ts';
import { hostView, parseStoredTopology, type HostUsage } from './host-view.ts';

export interface RegisterHostInput {
  name: string;
  region: string;
  driver: 'qemu' | 'sim';
  cpuModel: string;
  topology: HostTopology;
  agentVersion: string | null;
  /** The agent's host API (console, snapshots, export), reached over mutual TLS (hosts.agent_key is unused). */
  address: string | null;
  /** The image slugs the host can boot; null or absent: every image of the catalog (simulated hosts). */
  images?: readonly string[] | null;
}

/**
 * Who registers: a join token (bound to its host once registered), a host proven by its certificate
 * (re-registration of its own row only), or the control plane's own local host.
 */
export type Registrant =
  { kind: 'token'; tokenId: string; boundHostId: string | null } | { kind: 'host'; hostId: string } | { kind: 'local' };

/** Work a caller does inside the registration's transaction (a join: consume the token, issue a certificate). */
export type InRegistration = (
  tx: Tx,
  hooks: TxHooks,
  registered: { hostId: string; created: boolean },
) => Promise<void>;

export interface HostApiEndpoint {
  hostId: string;
  name: string;
  address: string;
  health: string;
}

export interface InventoryDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  events: EventRecorder;
  /** A region's code and address pool, or null when unknown (the catalog's). */
  regionOf: (code: string) => Promise<{ code: string; ipv4Pool: string } | null>;
  /** Binds a host token to its host inside the registration's transaction; false if already bound. */
  bindHostToken: (tx: Tx, hooks: TxHooks, tokenId: string, hostId: string) => Promise<boolean>;
  /** Revokes every credential of a host (its tokens, later its certificates) inside `tx`. */
  revokeHostCredentials: (tx: Tx, hooks: TxHooks, hostId: string) => Promise<void>;
  /** Usage per host from the claims (the scheduler's). */
  usageOf: (hostIds: string[] | null) => Promise<Map<string, HostUsage>>;
  addressPolicy?: HostAddressPolicy;
  /** Told after commit that a host changed (the scheduler rereads it). */
  onHostChanged?: (hostId: string) => void;
  /** Heartbeats of up hosts within this window share one statement (default 100 ms). */
  heartbeatWindowMs?: number;
}

export function createInventoryService(deps: InventoryDeps) {
  const { db, clock } = deps;
  const store = createInventoryStore(db);
  const changed = (hostId: string) => deps.onHostChanged?.(hostId);
  /**
   * Heartbeats of up hosts arriving within 100 ms share one UPDATE (20,000 hosts heartbeat 2,000 times a
   * second). A heartbeat answers after its batch is written: the host is marked seen, or it is not up and
   * takes the transaction below.
   */
  const heartbeats = coalesce<string, boolean>({
    windowMs: deps.heartbeatWindowMs ?? 100,
    maxBatch: 500,
    missing: false,
    run: async (hostIds) => {
      const touched = await store.touchManyIfUp(hostIds, clock.nowIso());
      return new Map(hostIds.map((id) => [id, touched.has(id)]));
    },
  });

  async function viewOf(record: HostRecord): Promise<Host> {
    return hostView(record, parseStoredTopology(record.topologyJson), (await deps.usageOf([record.id])).get(record.id));
  }

  function checkRegistration(input: RegisterHostInput, registrant: Registrant) {
    const problems = topologyProblems(input.topology);
    if (input.address !== null) {
      const policy = registrant.kind === 'local' ? 'allow-loopback' : (deps.addressPolicy ?? 'routable-only');
      const problem = hostAddressProblem(input.address, policy);
      if (problem) problems.push({ field: 'address', message: `${input.address} ${problem}` });
    }
    if (problems.length > 0) {
      throw invalid(`the host registration is invalid: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, {
        reason: 'invalid_registration',
        fields: problems,
      });
    }
  }

  return {
    /** Creates the simulated hosts of `fleet` that are missing (by name); returns how many were made. */
    async seedFleet(fleet: FleetEntry[], options: { scale?: number } = {}): Promise<number> {
      const scale = options.scale ?? 1;
      const existing = await store.names();
      const nowIso = clock.nowIso();
      let made = 0;
      await inTransaction(db, async (tx) => {
        for (const entry of fleet) {
          const shape = hostShapes[entry.shape];
          const count = Math.max(1, Math.round(entry.count * scale));
          for (let i = 1; i <= count; i++) {
            const name = `${entry.region}-${shape.name}-${String(i).padStart(3, '0')}`;
            if (existing.has(name)) continue;
            await store.insert(tx, {
              id: newId('host', clock.nowMs()),
              name,
              region: entry.region,
              driver: 'sim',
              cpuModel: shape.cpuModel,
              topology: topologyOfShape(shape),
              agentVersion: 'sim',
              address: null,
              agentKey: null,
              images: null,
              nowIso,
            });
            made++;
          }
        }
      });
      return made;
    },

    /** Metrics: hosts by region and health. */
    async metricFamilies(): Promise<MetricFamily[]> {
      const rows = await store.countByHealth();
      return [
        {
          name: 'vmcloud_hosts',
          help: 'Hosts by region and health (up, down: silent, unusable: quarantined).',
          type: 'gauge',
          samples: rows.map((row) => ({ labels: { region: row.region, health: row.health }, value: row.count })),
        },
      ];
    },

    async listHosts(filter: { region?: string; driver?: string } = {}): Promise<Host[]> {
      const records = await store.list({ region: filter.region?.toLowerCase(), driver: filter.driver });
      const usage = await deps.usageOf(null);
      return records.map((r) => hostView(r, parseStoredTopology(r.topologyJson), usage.get(r.id)));
    },

    /** A host's id, region, driver, state and health (no topology parsed, no usage read); 404 when unknown. */
    async hostSummary(hostId: string): Promise<HostSummary> {
      const summary = await store.summary(hostId);
      if (!summary) throw notFound('host', hostId);
      return summary;
    },

    /** Every host's id, region, driver, state and health, by id: no topology parsed, no usage read. */
    hostSummaries(): Promise<HostSummary[]> {
      return store.summaries();
    },

    /** The stored topology of a host (null: no such host, or an unreadable row). */
    async topologyOf(hostId: string): Promise<HostTopology | null> {
      const record = await store.byId(db, hostId);
      return record ? parseStoredTopology(record.topologyJson) : null;
    },

    async getHost(hostId: string): Promise<Host> {
      const record = await store.byId(db, hostId);
      if (!record) throw notFound('host', hostId);
      return viewOf(record);
    },

    /** Operator state: only active hosts take new servers. The generation bump tells every scheduler. */
    async setHostState(hostId: string, state: HostState): Promise<Host> {
      if (!(hostStates as readonly string[]).includes(state))
        throw invalid(`state must be one of ${hostStates.join(', ')}`, {
          fields: [{ field: 'state', message: `must be one of ${hostStates.join(', ')}` }],
        });
      await inTransaction(db, async (tx, hooks) => {
        const record = await store.byId(tx, hostId);
        if (!record) throw notFound('host', hostId);
        if (record.state === state) return;
        await store.setState(tx, hostId, state, clock.nowIso());
        await deps.events.record(tx, hooks, {
          type: 'host.state_changed',
          projectId: null,
          resourceType: 'host',
          resourceId: hostId,
          data: { from: record.state, to: state },
        });
        hooks.afterCommit(() => changed(hostId));
      });
      return this.getHost(hostId);
    },

    /**
     * A host registers (or re-registers) by name with the topology its agent read from /sys. Checks come
     * first and change nothing; registration and the token's binding are one transaction.
     */
    async registerHost(
      registrant: Registrant,
      input: RegisterHostInput,
      options: { inTransaction?: InRegistration } = {},
    ): Promise<{ hostId: string; created: boolean; ipv4Pool: string }> {
      checkRegistration(input, registrant);
      const region = await deps.regionOf(input.region.toLowerCase());
      if (!region)
        throw invalid(`unknown region ${input.region}`, { fields: [{ field: 'region', message: 'unknown region' }] });
      const nowIso = clock.nowIso();
      const taken = () =>
        conflict(`a host named ${input.name} is already registered by another host token`, {
          reason: 'host_name_taken',
        });
      try {
        return await inTransaction(db, async (tx, hooks) => {
          const existing = await store.byName(tx, input.name);
          if (registrant.kind === 'token') {
            if (registrant.boundHostId !== null && existing?.id !== registrant.boundHostId) {
              throw forbidden(
                `this host token belongs to host ${registrant.boundHostId}; it cannot register ${input.name}`,
              );
            }
            if (registrant.boundHostId === null && existing) throw taken();
          }
          if (registrant.kind === 'host' && existing?.id !== registrant.hostId) {
            throw forbidden(`this certificate belongs to host ${registrant.hostId}; it cannot register ${input.name}`);
          }
          const fields = {
            driver: input.driver,
            cpuModel: input.cpuModel,
            topology: input.topology,
            agentVersion: input.agentVersion,
            address: input.address,
            agentKey: null,
            images: input.images ?? null,
            nowIso,
          };
          if (existing) {
            if (existing.region !== region.code) {
              throw conflict(`host ${input.name} is registered in ${existing.region}, not ${region.code}`, {
                reason: 'host_region_mismatch',
              });
            }
            await store.updateRegistration(tx, existing.id, fields);
            await options.inTransaction?.(tx, hooks, { hostId: existing.id, created: false });
            hooks.afterCommit(() => changed(existing.id));
            return { hostId: existing.id, created: false, ipv4Pool: region.ipv4Pool };
          }
          const hostId = newId('host', clock.nowMs());
          await store.insert(tx, { id: hostId, name: input.name, region: region.code, ...fields });
          if (registrant.kind === 'token' && !(await deps.bindHostToken(tx, hooks, registrant.tokenId, hostId)))
            throw taken();
          await deps.events.record(tx, hooks, {
            type: 'host.registered',
            projectId: null,
            resourceType: 'host',
            resourceId: hostId,
            data: { name: input.name, region: region.code },
          });
          await options.inTransaction?.(tx, hooks, { hostId, created: true });
          hooks.afterCommit(() => changed(hostId));
          return { hostId, created: true, ipv4Pool: region.ipv4Pool };
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw taken();
        throw error;
      }
    },

    /**
     * Records a heartbeat; a host that was down is up again (an unusable one stays unusable). With `images`,
     * the images the host can boot now (an image imported or removed since it registered).
     */
    async heartbeat(hostId: string, report: { images?: readonly string[] } = {}): Promise<void> {
      const nowIso = clock.nowIso();
      // The common case (an up host, nothing to report): one statement for every heartbeat of the window.
      if ((await heartbeats.add(hostId)) && !report.images) return;
      await inTransaction(db, async (tx, hooks) => {
        const record = await store.byId(tx, hostId);
        if (!record) throw notFound('host', hostId);
        if (record.health === 'unusable') {
          throw new VmcError(
            'conflict',
            `host ${record.name} is unusable: ${record.healthReason ?? 'see its events'}`,
            {
              reason: 'host_unusable',
            },
          );
        }
        const imagesChanged = report.images ? await store.setImages(tx, hostId, report.images, nowIso) : false;
        if (imagesChanged) hooks.afterCommit(() => changed(hostId));
        if (!(await store.markUp(tx, hostId, nowIso))) return;
        await deps.events.record(tx, hooks, {
          type: 'host.up',
          projectId: null,
          resourceType: 'host',
          resourceId: hostId,
        });
        if (!imagesChanged) hooks.afterCommit(() => changed(hostId));
      });
    },

    /** An image was copied to a host (operator upload): it can boot it from now on. */
    async addHostImage(hostId: string, slug: string): Promise<void> {
      await inTransaction(db, async (tx, hooks) => {
        const images = await store.images(tx, hostId);
        // null: the host boots every image of the catalog already.
        if (images === null || images.includes(slug)) return;
        if (await store.setImages(tx, hostId, [...images, slug], clock.nowIso()))
          hooks.afterCommit(() => changed(hostId));
      });
    },

    /** An image was removed from a host (a deleted custom image): the scheduler no longer places it there. */
    async removeHostImage(hostId: string, slug: string): Promise<void> {
      await inTransaction(db, async (tx, hooks) => {
        const images = await store.images(tx, hostId);
        if (images === null || !images.includes(slug)) return;
        if (
          await store.setImages(
            tx,
            hostId,
            images.filter((image) => image !== slug),
            clock.nowIso(),
          )
        )
          hooks.afterCommit(() => changed(hostId));
      });
    },

    /** Hosts whose last heartbeat is older than `staleAfterMs` are marked down; returns those this call changed. */
    async markStaleHostsDown(staleAfterMs: number): Promise<string[]> {
      const cutoff = new Date(clock.nowMs() - staleAfterMs).toISOString();
      const marked: string[] = [];
      for (const id of await store.staleUpHostIds(cutoff)) {
        await inTransaction(db, async (tx, hooks) => {
          if (!(await store.markDownIfStale(tx, id, cutoff, clock.nowIso()))) return;
          await deps.events.record(tx, hooks, {
            type: 'host.down',
            projectId: null,
            resourceType: 'host',
            resourceId: id,
            data: { stale_after_ms: staleAfterMs },
          });
          hooks.afterCommit(() => changed(id));
          marked.push(id);
        });
      }
      return marked;
    },

    /**
     * At start: a host row whose topology does not parse or breaks the checks is marked `unusable` with the
     * reason (an event and a log line), never fatal; the scheduler leaves it alone.
     */
    async quarantineInvalidHosts(): Promise<string[]> {
      const quarantined: string[] = [];
      for (const record of await store.list()) {
        const topology = parseStoredTopology(record.topologyJson);
        let reason: string | null = topology ? null : 'its stored topology is not valid JSON';
        if (topology) {
          try {
            const problems = topologyProblems(topology);
            if (problems.length > 0) reason = problems.map((p) => `${p.field} ${p.message}`).join('; ');
          } catch (error) {
            reason = `its stored topology is malformed (${(error as Error).message})`;
          }
        }
        if (!reason) continue;
        await inTransaction(db, async (tx, hooks) => {
          if (!(await store.quarantine(tx, record.id, reason, clock.nowIso()))) return;
          await deps.events.record(tx, hooks, {
            type: 'host.quarantined',
            projectId: null,
            resourceType: 'host',
            resourceId: record.id,
            data: { reason },
          });
          hooks.afterCommit(() => changed(record.id));
        });
        deps.log.error(
          { host_id: record.id, host: record.name, reason },
          'host quarantined: unusable until re-registered',
        );
        quarantined.push(record.id);
      }
      return quarantined;
    },

    /**
     * Removes a forgotten host (its claims already released): the row goes, its host tokens are revoked,
     * and `host.forgotten` says how many servers were finished or lost.
     */
    async removeHost(hostId: string, counts: { deleted: number; lost: number }): Promise<void> {
      await inTransaction(db, async (tx, hooks) => {
        const record = await store.byId(tx, hostId);
        if (!record) throw notFound('host', hostId);
        await deps.revokeHostCredentials(tx, hooks, hostId);
        await store.remove(tx, hostId);
        await deps.events.record(tx, hooks, {
          type: 'host.forgotten',
          projectId: null,
          resourceType: 'host',
          resourceId: hostId,
          data: { name: record.name, ...counts },
        });
        hooks.afterCommit(() => changed(hostId));
      });
    },

    /** The host's credentials were revoked: the next housekeeping pass marks it down. */
    async expireHeartbeat(hostId: string): Promise<void> {
      await store.expireHeartbeat(db, hostId);
    },

    /** Where the control plane reaches a host's API, if it has one. */
    async hostApiOf(hostId: string): Promise<HostApiEndpoint | { hostId: string; name: string; address: null } | null> {
      const record = await store.byId(db, hostId);
      if (!record) return null;
      if (!record.address) return { hostId, name: record.name, address: null };
      return { hostId, name: record.name, address: record.address, health: record.health };
    },

    /** The up qemu hosts of a region with a host API, by name. */
    async hostApisInRegion(region: string): Promise<HostApiEndpoint[]> {
      const records = await store.list({ region, driver: 'qemu', health: 'up' });
      return records.flatMap((r) =>
        r.address ? [{ hostId: r.id, name: r.name, address: r.address, health: r.health }] : [],
      );
    },

    async simulatedHostIds(): Promise<string[]> {
      return (await store.list({ driver: 'sim' })).map((r) => r.id);
    },
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
