/**
 * The placement engine: decides in memory (fleet index, filter list, scorer), writes the claim in the
 * caller's transaction guarded by the host generation (store/), and keeps its memory in step with the
 * transaction (journal.ts).
 *
 * Concurrency: the database is the arbiter. A claim's guard fails when any other writer (another process,
 * a host state change) touched the host since this view was read; the host is then reread in the
 * transaction and the decision retried.
 */
import type { Db, DialectName, Queryable, Tx, TxHooks } from '../db/index.ts';
import { VmcError, conflict } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { createFilterPlan, decide } from './decide.ts';
import { coresFor, demandOf, type Demand } from './demand.ts';
import { explainFailure } from './explain.ts';
import { defaultFilters, type FilterContext, type HostFilter } from './filters/index.ts';
import { FleetIndex } from './fleet-index.ts';
import { applyClaim, pinClaim, placementOf, removeClaim, type HostState } from './host-state.ts';
import { createJournals, type TxJournal } from './journal.ts';
import { alignedExact, spread, type Scorer } from './scorers/index.ts';
import { createSchedulerStore, type SchedulerStore } from './store/index.ts';
import type {
  DiskClaimOutcome,
  DiskClaimRequest,
  PlacementFailure,
  PlacementOutcome,
  PlacementRequest,
  Scheduler,
} from './types.ts';
import { createWriteQueue } from './write-queue.ts';

const noHosts: ReadonlySet<string> = new Set();
/** The longest a transaction waits for another that holds a host in memory (see `waitForOwners`). */
export const ownerWaitMs = 5_000;

export interface DecisionObservation {
  /** Time spent deciding in memory (all attempts of one place() call), microseconds. */
  durationUs: number;
  ok: boolean;
  /** Decisions made: 1, plus one per generation conflict. */
  attempts: number;
  /** Time spent explaining a failure (judging every host of the region), microseconds; 0 on success. */
  explainUs: number;
  region: string;
  /** Why it failed: the filter that rejected the most hosts, `no_hosts`, or `conflict`; absent on success. */
  reason?: string;
}

export interface EngineDeps {
  db: Db;
  dialect: DialectName;
  log?: Logger;
  clock?: Clock;
  /** Let VPS products use GPU hosts too (default false: GPU hosts are kept for GPU products). */
  vpsOnGpuHosts?: boolean;
  /** Generation conflicts tolerated per placement before giving up with `unavailable`. */
  maxAttempts?: number;
  onDecision?: (observation: DecisionObservation) => void;
  /** The filter list (default `defaultFilters`): decisions and explanations both follow it. */
  filters?: readonly HostFilter[];
  /** The scorer of placements outside spread groups (default `alignedExact`, see docs/scheduler.md). */
  scorer?: Scorer;
  /** Cores of the largest VPS product: scorers keep hosts' free cores in multiples of it (default 8). */
  alignCores?: number;
  store?: SchedulerStore;
}

export interface PlacementEngine extends Scheduler {
  readonly fleet: FleetIndex;
  readonly store: SchedulerStore;
  /** Re-reads one host (new, changed or deleted) from the database. */
  refreshHost(hostId: string): Promise<void>;
  /** Re-reads every host and claim from the database. */
  reload(): Promise<void>;
  /**
   * Claims disk space alone on a named host (a local volume), in `tx`, guarded by the host's generation
   * like every claim; released with `release(tx, hooks, claimId)`.
   */
  claimDisk(tx: Tx, hooks: TxHooks, request: DiskClaimRequest): Promise<DiskClaimOutcome>;
}

export function createPlacementEngine(deps: EngineDeps): PlacementEngine {
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const maxAttempts = deps.maxAttempts ?? 20;
  const vpsOnGpuHosts = deps.vpsOnGpuHosts ?? false;
  const plan = createFilterPlan(deps.filters ?? defaultFilters);
  const packing = deps.scorer ?? alignedExact;
  const store = deps.store ?? createSchedulerStore(deps.dialect);
  const fleet = new FleetIndex({ vpsOnGpuHosts, alignCores: deps.alignCores ?? 8 });
  const journals = createJournals(fleet);
  const writes = createWriteQueue({ store, clock });
  const groupPolicies = new Map<string, string>();
  let loading: Promise<void> | null = null;

  /** Puts freshly read hosts in the index, keeping the pending writes of open transactions. */
  function install(hosts: HostState[], readIn: Tx | null): void {
    for (const host of hosts) {
      const previous = fleet.hosts.get(host.id);
      const owner = previous?.owner as TxJournal | null | undefined;
      if (owner) {
        host.owner = owner;
        if (owner.tx !== readIn) {
          for (const op of owner.ops) {
            if (op.hostId !== host.id) continue;
            if (op.kind === 'claim') applyClaim(host, op.serverId, op.claim);
            else removeClaim(host, op.serverId);
          }
          host.generation = -1;
        }
      }
      fleet.put(host);
    }
  }

  async function ensureLoaded(q: Queryable): Promise<void> {
    if (!loading) {
      loading = store.loadFleet(q).then((hosts) => install(hosts, null));
      loading.catch(() => (loading = null));
    }
    await loading;
  }

  async function reloadHosts(q: Queryable, hostIds: readonly string[], readIn: Tx | null): Promise<void> {
    const hosts = await store.loadHosts(q, hostIds);
    install(hosts, readIn);
    const found = new Set(hosts.map((host) => host.id));
    for (const hostId of hostIds) if (!found.has(hostId)) fleet.drop(hostId);
  }

  /**
   * Before answering "no host" (or spanning NUMA nodes), compares the region's generations with the database
   * and rereads the hosts that changed (claims released or hosts changed by other writers, hosts added
   * without refreshHost). Returns whether anything was reread.
   */
  async function syncRegion(tx: Tx, region: string, journal: TxJournal): Promise<boolean> {
    if (journal.syncedRegions.has(region)) return false;
    journal.syncedRegions.add(region);
    await writes.settled(journal, () => journal.queue.length > 0 || journal.flushing !== null);
    const rows = await store.regionGenerations(tx, region);
    const stale = rows
      .filter((row) => {
        const host = fleet.hosts.get(row.id);
        if (!host) return true;
        if ((host.owner && host.owner !== journal) || host.pendingWrites > 0 || host.reloading) return false;
        return host.generation !== row.generation;
      })
      .map((row) => row.id);
    const known = new Set(rows.map((row) => row.id));
    const gone = (fleet.regions.get(region)?.hosts ?? [])
      .filter((host) => !known.has(host.id) && !host.owner)
      .map((host) => host.id);
    if (stale.length + gone.length === 0) return false;
    await reloadInTx(tx, journal, [...stale, ...gone]);
    return true;
  }

  /**
   * Rereads hosts inside the transaction. A host is first taken out of decisions and its claims already
   * decided are let finish writing, so that the fresh view (the database as this transaction sees it)
   * contains every claim decided on the old one.
   */
  function reloadInTx(tx: Tx, journal: TxJournal, hostIds: readonly string[]): Promise<void> {
    const hosts = hostIds.flatMap((id) => fleet.hosts.get(id) ?? []);
    for (const host of hosts) host.reloading = true;
    const reload = (async () => {
      try {
        await writes.settled(journal, () => hosts.some((host) => host.pendingWrites > 0));
        await reloadHosts(tx, hostIds, tx);
      } finally {
        for (const host of hosts) host.reloading = false;
      }
    })();
    journal.reloads.add(reload);
    void reload.finally(() => journal.reloads.delete(reload)).catch(() => {});
    return reload;
  }

  async function spreadGroupOf(tx: Tx, groupId: string): Promise<string | null> {
    let policy = groupPolicies.get(groupId);
    if (policy === undefined) {
      const found = await store.placementGroupPolicy(tx, groupId);
      policy = found ?? 'spread';
      if (found !== null) groupPolicies.set(groupId, policy);
    }
    return policy === 'spread' ? groupId : null;
  }

  function contextOf(
    request: PlacementRequest,
    demand: Demand,
    journal: TxJournal,
    spreadGroupId: string | null,
  ): FilterContext {
    const region = fleet.regions.get(request.region);
    const pool = demand.gpuModel === null ? region?.standard : region?.gpu.get(demand.gpuModel);
    return {
      request,
      demand,
      coresNeeded: coresFor(demand.vcpus, pool?.maxThreadsPerCore ?? 2),
      avoidHostIds: request.avoidHostIds?.length ? new Set(request.avoidHostIds) : noHosts,
      spreadGroupId,
      owner: journal,
      vpsOnGpuHosts,
    };
  }

  /**
   * Waits until one of `owners` (other open transactions holding hosts in memory) has ended — at most
   * `ownerWaitMs`. This transaction may hold row locks one of them waits for: a cycle through memory that
   * PostgreSQL's deadlock detector cannot see. Past the bound it gives up with a retryable 503 and its
   * rollback breaks the cycle.
   */
  async function waitForOwners(owners: TxJournal[], what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(() => resolve('timed out'), ownerWaitMs);
    });
    const outcome = await Promise.race([...owners.map((owner) => owner.settled), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timed out')
      throw new VmcError('unavailable', `${what} held by another transaction for over ${ownerWaitMs} ms; retry`, {
        reason: 'host_busy',
      });
  }

  async function waitForBusyHosts(region: string, journal: TxJournal): Promise<void> {
    const owners = new Set<TxJournal>();
    for (const host of fleet.regions.get(region)?.hosts ?? []) {
      if (host.owner && host.owner !== journal) owners.add(host.owner as TxJournal);
    }
    if (owners.size > 0) await waitForOwners([...owners], `the hosts of ${region.toUpperCase()} are`);
  }

  async function place(tx: Tx, hooks: TxHooks, request: PlacementRequest): Promise<PlacementOutcome> {
    const demand = demandOf(request);
    await ensureLoaded(tx);
    const journal = journals.of(tx, hooks);
    if (fleet.serverHost.has(request.serverId)) {
      throw conflict(`server ${request.serverId} already has a placement`, { reason: 'already_placed' });
    }
    const spreadGroupId = request.placementGroupId ? await spreadGroupOf(tx, request.placementGroupId) : null;
    const scorer: Scorer = spreadGroupId ? spread : packing;
    let decisionUs = 0;
    let attempts = 0;
    let synced = false;
    let explainUs = 0;
    const observe = (ok: boolean, reason?: string) =>
      deps.onDecision?.({ durationUs: decisionUs, ok, attempts, explainUs, region: request.region, reason });
    for (let waits = 0; attempts < maxAttempts && waits < 10_000;) {
      const context = contextOf(request, demand, journal, spreadGroupId);
      const started = performance.now();
      const { decision, sawBusy } = decide(fleet, context, scorer, plan);
      decisionUs += (performance.now() - started) * 1000;
      attempts++;
      if (!decision) {
        if (sawBusy && journal.reloads.size > 0) {
          attempts--;
          waits++;
          await Promise.allSettled([...journal.reloads]);
          continue;
        }
        if (sawBusy && journal.hostIds.size === 0) {
          attempts--;
          waits++;
          await waitForBusyHosts(request.region, journal);
          continue;
        }
        if (!synced) {
          // Decide again after the wait: memory may have changed meanwhile, whatever the sync found.
          synced = true;
          attempts--;
          await syncRegion(tx, request.region, journal);
          continue;
        }
        const explainStarted = performance.now();
        const failure = explainFailure(fleet.regions.get(request.region)?.hosts ?? [], context, plan.filters);
        explainUs = (performance.now() - explainStarted) * 1000;
        const main = [...failure.rejections].sort((a, b) => b.hosts - a.hosts)[0];
        observe(false, main?.filter ?? 'no_hosts');
        return { ok: false, failure };
      }
      const { host, choice } = decision;
      if (choice.nodes.length > 1 && !synced) {
        // Spanning NUMA nodes is the last resort: first make sure no released capacity was missed.
        synced = true;
        attempts--;
        await syncRegion(tx, request.region, journal);
        continue;
      }
      const claim = pinClaim(host, choice, context.demand, request.placementGroupId);
      if (
        claim.cores.length !== coresFor(request.vcpus, host.threadsPerCore) ||
        claim.gpus.length !== context.demand.gpuCount ||
        claim.vfs.length !== request.sriovVfs
      ) {
        throw new VmcError(
          'internal',
          `pinning ${request.serverId} on ${host.id} came out short; refusing to write it`,
        );
      }
      const placement = placementOf(host, claim);
      const expected = host.generation;
      // The claim enters memory before the write, so that concurrent decisions already see it.
      const op = journals.claim(journal, host, request.serverId, claim);
      host.generation = expected < 0 ? -1 : expected + 1;
      let written: boolean;
      try {
        written =
          expected >= 0 && (await writes.claim(journal, host, { serverId: request.serverId, placement }, expected));
      } catch (error) {
        journals.drop(journal, op);
        host.generation = -1;
        throw error;
      }
      if (written) {
        observe(true);
        return { ok: true, placement };
      }
      journals.drop(journal, op);
      log.debug(
        { hostId: host.id, serverId: request.serverId, expected },
        'placement generation conflict, reloading host',
      );
      await reloadInTx(tx, journal, [host.id]);
    }
    observe(false, 'conflict');
    throw new VmcError('unavailable', `placement of ${request.serverId} kept conflicting with other writers; retry`, {
      reason: 'placement_conflict',
    });
  }

  async function release(tx: Tx, hooks: TxHooks, serverId: string): Promise<void> {
    await ensureLoaded(tx);
    const journal = journals.of(tx, hooks);
    let known = fleet.serverHost.get(serverId);
    while (known && known.owner && known.owner !== journal) {
      if (journal.hostIds.size > 0) {
        throw conflict(`host ${known.id} has pending placements of another transaction; retry`, {
          reason: 'host_busy',
        });
      }
      await waitForOwners([known.owner as TxJournal], `host ${known.id} is`);
      known = fleet.serverHost.get(serverId);
    }
    if (known) journals.own(journal, known);
    const released = await writes.release(journal, serverId);
    if (known && (!released || released.hostId !== known.id)) {
      // Memory disagreed with the database: forget the claim here and reread the host on next use.
      journals.release(journal, known, serverId);
      known.generation = -1;
    }
    if (!released) return;
    const host = fleet.hosts.get(released.hostId);
    if (!host) return;
    if (host.owner && host.owner !== journal) {
      // Another open transaction holds this host: apply once this one commits; its view is stale anyway.
      hooks.afterCommit(() => {
        fleet.unclaim(host, serverId);
        host.generation = -1;
      });
      return;
    }
    journals.release(journal, host, serverId);
    if (!released.reconciled.done) {
      // Once per host and batch: the batch moved the generation on by its releases on this host.
      released.reconciled.done = true;
      host.generation =
        host.generation >= 0 && released.generation === host.generation + released.count ? released.generation : -1;
    }
  }

  function diskFailure(host: HostState | undefined, request: DiskClaimRequest, reason: string): PlacementFailure {
    const where = host ? `host ${host.name} in ${host.region.toUpperCase()}` : `host ${request.hostId}`;
    return {
      region: host?.region ?? '',
      hostsConsidered: host ? 1 : 0,
      rejections: host ? [{ filter: reason === 'disk' ? 'disk' : 'host_state', hosts: 1, reason }] : [],
      largestAvailable: { vcpus: 0, memoryMiB: 0, gpus: 0 },
      message: !host
        ? `host ${request.hostId} does not exist`
        : reason === 'disk'
          ? `${where} lacks ${request.diskGiB} GiB of free disk (${Math.max(0, host.freeDiskGiB)} GiB free of ${host.layout.sellableDiskGiB} GiB)`
          : `${where} takes nothing new: ${reason}`,
    };
  }

  async function claimDisk(tx: Tx, hooks: TxHooks, request: DiskClaimRequest): Promise<DiskClaimOutcome> {
    if (!Number.isInteger(request.diskGiB) || request.diskGiB <= 0)
      throw new VmcError('invalid', `diskGiB must be a positive integer, got ${request.diskGiB}`);
    await ensureLoaded(tx);
    const journal = journals.of(tx, hooks);
    if (fleet.serverHost.has(request.claimId)) {
      throw conflict(`${request.claimId} already has a claim`, { reason: 'already_placed' });
    }
    for (let attempts = 0; attempts < maxAttempts; attempts++) {
      let host = fleet.hosts.get(request.hostId);
      while (host && host.owner && host.owner !== journal) {
        if (journal.hostIds.size > 0) {
          throw conflict(`host ${host.id} has pending placements of another transaction; retry`, {
            reason: 'host_busy',
          });
        }
        await waitForOwners([host.owner as TxJournal], `host ${host.id} is`);
        host = fleet.hosts.get(request.hostId);
      }
      if (!host || host.generation < 0) {
        await reloadInTx(tx, journal, [request.hostId]);
        host = fleet.hosts.get(request.hostId);
      }
      if (!host) return { ok: false, failure: diskFailure(undefined, request, 'missing') };
      if (host.state === 'down') return { ok: false, failure: diskFailure(host, request, 'its agent is down') };
      if (host.freeDiskGiB < request.diskGiB) return { ok: false, failure: diskFailure(host, request, 'disk') };
      const claim = {
        cores: [] as number[],
        vcpus: 0,
        memoryMiB: 0,
        diskGiB: request.diskGiB,
        gpus: [] as string[],
        vfs: [] as string[],
        placementGroupId: null,
      };
      const placement = placementOf(host, claim);
      const expected = host.generation;
      const op = journals.claim(journal, host, request.claimId, claim);
      host.generation = expected + 1;
      let written: boolean;
      try {
        written = await writes.claim(journal, host, { serverId: request.claimId, placement }, expected);
      } catch (error) {
        journals.drop(journal, op);
        host.generation = -1;
        throw error;
      }
      if (written) return { ok: true, hostId: host.id };
      journals.drop(journal, op);
      await reloadInTx(tx, journal, [host.id]);
    }
    throw new VmcError(
      'unavailable',
      `the disk claim of ${request.claimId} kept conflicting with other writers; retry`,
      {
        reason: 'placement_conflict',
      },
    );
  }

  return {
    fleet,
    store,
    place,
    release,
    claimDisk,
    async refreshHost(hostId) {
      await ensureLoaded(deps.db);
      await reloadHosts(deps.db, [hostId], null);
    },
    async reload() {
      const hosts = await store.loadFleet(deps.db);
      loading = Promise.resolve();
      const seen = new Set(hosts.map((host) => host.id));
      for (const id of [...fleet.hosts.keys()]) if (!seen.has(id)) fleet.drop(id);
      install(hosts, null);
      groupPolicies.clear();
    },
  };
}
