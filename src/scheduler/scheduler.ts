/**
 * The placement engine: decides in memory (fleet index), writes the claim in the caller's transaction
 * guarded by the host generation, and keeps its memory in step with the transaction through its hooks.
 *
 * Concurrency: the database is the arbiter. A claim's `UPDATE hosts … WHERE generation = ? AND state =
 * 'active'` fails when any other writer (another process, a host state change) touched the host since this
 * view was read; the host is then reloaded in the transaction and the decision retried. Inside one process,
 * a host with pending writes of an open transaction belongs to that transaction until it ends (other
 * transactions pass it over or wait), so that a rollback can never leave a claim decided on stale memory.
 */
import type { Db, DialectName, Queryable, Tx, TxHooks } from '../db/index.ts';
import { VmcError, conflict } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { createClaimWriter, type AllocationValues, type ClaimWriter, type PendingClaim } from './claim-writer.ts';
import { decide } from './decide.ts';
import { coresFor, demandOf } from './demand.ts';
import { explainFailure } from './explain.ts';
import type { FilterContext } from './filters/index.ts';
import { FleetIndex } from './fleet-index.ts';
import { applyClaim, pinPlacement, removeClaim, type Claim, type HostState } from './host-state.ts';
import { bestFit, spread, type Scorer } from './scorers/index.ts';
import { loadHosts } from './store.ts';
import type { Placement, PlacementOutcome, PlacementRequest, Scheduler } from './types.ts';

export interface DecisionObservation {
  /** Time spent deciding in memory (all attempts of one place() call), microseconds. */
  durationUs: number;
  ok: boolean;
  /** Decisions made: 1, plus one per generation conflict. */
  attempts: number;
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
}

type JournalOp = { kind: 'claim' | 'release'; hostId: string; serverId: string; claim: Claim };

interface QueuedClaim extends PendingClaim {
  host: HostState;
  done: (written: boolean) => void;
  failed: (error: unknown) => void;
}

interface TxJournal {
  tx: Tx;
  /** Claims decided but not yet written: concurrent place() calls of one transaction share one write. */
  queued: QueuedClaim[];
  /** The write of queued claims in progress, if any. */
  flushing: Promise<void> | null;
  /** Rereads of hosts in progress in this transaction. */
  reloads: Set<Promise<void>>;
  /** Regions whose generations were compared with the database in this transaction. */
  syncedRegions: Set<string>;
  ops: JournalOp[];
  hostIds: Set<string>;
  settled: Promise<void>;
  settle: () => void;
}

export interface PlacementEngine extends Scheduler {
  readonly fleet: FleetIndex;
  /** Re-reads one host (new, changed or deleted) from the database. */
  refreshHost(hostId: string): Promise<void>;
  /** Re-reads every host and claim from the database. */
  reload(): Promise<void>;
  /** The host view holding a server's claim, if any. */
  hostOf(serverId: string): HostState | undefined;
}

export function createPlacementEngine(deps: EngineDeps): PlacementEngine {
  const log = deps.log ?? silentLogger;
  const clock = deps.clock ?? systemClock;
  const maxAttempts = deps.maxAttempts ?? 20;
  const vpsOnGpuHosts = deps.vpsOnGpuHosts ?? false;
  const writer: ClaimWriter = createClaimWriter(deps.dialect);
  const fleet = new FleetIndex({ vpsOnGpuHosts });
  const journals = new WeakMap<Tx, TxJournal>();
  const open = new Set<TxJournal>();
  const groupPolicies = new Map<string, string>();
  let loading: Promise<void> | null = null;

  function journalOf(tx: Tx, hooks: TxHooks): TxJournal {
    const journal = journals.get(tx);
    if (journal) return journal;
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const created: TxJournal = { tx, queued: [], flushing: null, reloads: new Set(), syncedRegions: new Set(), ops: [], hostIds: new Set(), settled, settle };
    journals.set(tx, created);
    open.add(created);
    hooks.afterCommit(() => finish(created, true));
    hooks.afterRollback(() => finish(created, false));
    return created;
  }

  function finish(journal: TxJournal, committed: boolean): void {
    if (!committed) {
      for (const op of journal.ops.slice().reverse()) undo(op);
    }
    for (const hostId of journal.hostIds) {
      const host = fleet.hosts.get(hostId);
      if (!host || host.owner !== journal) continue;
      host.owner = null;
      if (!committed) host.generation = -1;
    }
    open.delete(journal);
    journal.settle();
  }

  function undo(op: JournalOp): void {
    const host = fleet.hosts.get(op.hostId);
    if (!host) return;
    if (op.kind === 'claim' && host.claims.get(op.serverId) === op.claim) fleet.unclaim(host, op.serverId);
    if (op.kind === 'release' && !host.claims.has(op.serverId)) fleet.claim(host, op.serverId, op.claim);
  }

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

  async function ensureLoaded(q: Queryable | Tx): Promise<void> {
    if (!loading) {
      loading = loadHosts(q).then((hosts) => install(hosts, null));
      loading.catch(() => (loading = null));
    }
    await loading;
  }

  async function reloadHosts(q: Queryable | Tx, hostIds: readonly string[], readIn: Tx | null): Promise<void> {
    const hosts = await loadHosts(q, hostIds);
    install(hosts, readIn);
    const found = new Set(hosts.map((host) => host.id));
    for (const hostId of hostIds) if (!found.has(hostId)) fleet.drop(hostId);
  }

  /**
   * Before answering "no host" (or spanning NUMA nodes), compares the region's generations with the database and rereads the hosts
   * that changed (claims released or hosts changed by other writers, hosts added without refreshHost).
   * Returns whether anything was reread.
   */
  async function syncRegion(tx: Tx, region: string, journal: TxJournal): Promise<boolean> {
    if (journal.syncedRegions.has(region)) return false;
    journal.syncedRegions.add(region);
    await writesSettled(journal, () => journal.queued.length > 0 || journal.flushing !== null);
    const rows = await tx.selectFrom('hosts').select(['id', 'generation']).where('region', '=', region).execute();
    const stale = rows
      .filter((row) => {
        const host = fleet.hosts.get(row.id);
        if (!host) return true;
        if ((host.owner && host.owner !== journal) || host.pendingWrites > 0 || host.reloading) return false;
        return host.generation !== Number(row.generation);
      })
      .map((row) => row.id);
    const known = new Set(rows.map((row) => row.id));
    const gone = (fleet.regions.get(region)?.hosts ?? []).filter((host) => !known.has(host.id) && !host.owner).map((host) => host.id);
    if (stale.length + gone.length === 0) return false;
    await reloadInTx(tx, journal, [...stale, ...gone]);
    return true;
  }

  /** Waits until this transaction's queued and in-flight claim writes are done, as long as `busy` says so. */
  async function writesSettled(journal: TxJournal, busy: () => boolean): Promise<void> {
    while (busy()) await (journal.flushing ?? new Promise<void>((resolve) => setImmediate(resolve)));
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
        await writesSettled(journal, () => hosts.some((host) => host.pendingWrites > 0));
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
      const row = await tx.selectFrom('placement_groups').select('policy').where('id', '=', groupId).executeTakeFirst();
      policy = row?.policy ?? 'spread';
      if (row) groupPolicies.set(groupId, policy);
    }
    return policy === 'spread' ? groupId : null;
  }

  function contextOf(request: PlacementRequest, journal: TxJournal, spreadGroupId: string | null): FilterContext {
    const demand = demandOf(request);
    const region = fleet.regions.get(request.region);
    const pool = demand.gpuModel === null ? region?.standard : region?.gpu.get(demand.gpuModel);
    return {
      request,
      demand,
      coresNeeded: coresFor(demand.vcpus, pool?.maxThreadsPerCore ?? 2),
      avoidHostIds: new Set(request.avoidHostIds ?? []),
      spreadGroupId,
      owner: journal,
      vpsOnGpuHosts,
    };
  }

  async function waitForBusyHosts(region: string, journal: TxJournal): Promise<void> {
    const owners = new Set<TxJournal>();
    for (const host of fleet.regions.get(region)?.hosts ?? []) {
      if (host.owner && host.owner !== journal) owners.add(host.owner as TxJournal);
    }
    if (owners.size > 0) await Promise.race([...owners].map((owner) => owner.settled));
  }

  async function place(tx: Tx, hooks: TxHooks, request: PlacementRequest): Promise<PlacementOutcome> {
    demandOf(request);
    await ensureLoaded(tx);
    const journal = journalOf(tx, hooks);
    if (fleet.serverHost.has(request.serverId)) {
      throw conflict(`server ${request.serverId} already has a placement`, { reason: 'already_placed' });
    }
    const spreadGroupId = request.placementGroupId ? await spreadGroupOf(tx, request.placementGroupId) : null;
    const scorer: Scorer = spreadGroupId ? spread : bestFit;
    let decisionUs = 0;
    let attempts = 0;
    let synced = false;
    const observe = (ok: boolean) => deps.onDecision?.({ durationUs: decisionUs, ok, attempts });
    for (let waits = 0; attempts < maxAttempts && waits < 10_000; ) {
      const context = contextOf(request, journal, spreadGroupId);
      const started = performance.now();
      const { decision, sawBusy } = decide(fleet, context, scorer);
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
        const failure = explainFailure(fleet.regions.get(request.region)?.hosts ?? [], context);
        observe(false);
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
      const placement = pinPlacement(host, choice, context.demand);
      if (placement.threads.length !== request.vcpus || placement.gpus.length !== context.demand.gpuCount || placement.vfs.length !== request.sriovVfs) {
        throw new VmcError('internal', `pinning ${request.serverId} on ${host.id} came out short; refusing to write it`);
      }
      const claim: Claim = { placement, placementGroupId: request.placementGroupId };
      const expected = host.generation;
      // The claim enters memory before the write, so that concurrent decisions already see it.
      const op: JournalOp = { kind: 'claim', hostId: host.id, serverId: request.serverId, claim };
      host.owner = journal;
      journal.hostIds.add(host.id);
      journal.ops.push(op);
      fleet.claim(host, request.serverId, claim);
      host.generation = expected < 0 ? -1 : expected + 1;
      let written: boolean;
      try {
        written = expected >= 0 && (await queueClaim(journal, host, allocationValues(request.serverId, placement, clock.nowIso()), expected));
      } catch (error) {
        dropOp(journal, op);
        host.generation = -1;
        throw error;
      }
      if (written) {
        observe(true);
        return { ok: true, placement };
      }
      dropOp(journal, op);
      log.debug({ hostId: host.id, serverId: request.serverId, expected }, 'placement generation conflict, reloading host');
      await reloadInTx(tx, journal, [host.id]);
    }
    observe(false);
    throw new VmcError('unavailable', `placement of ${request.serverId} kept conflicting with other writers; retry`, {
      reason: 'placement_conflict',
    });
  }

  /**
   * Claims decided in the same turn of the event loop by one transaction are written together (one
   * statement on PostgreSQL); a lone place() call waits one `setImmediate` for company.
   */
  function queueClaim(journal: TxJournal, host: HostState, values: AllocationValues, expectedGeneration: number): Promise<boolean> {
    return new Promise<boolean>((done, failed) => {
      host.pendingWrites++;
      journal.queued.push({ host, values, expectedGeneration, done, failed });
      if (journal.queued.length === 1 && journal.flushing === null) setImmediate(() => void flushClaims(journal));
    });
  }

  async function flushClaims(journal: TxJournal): Promise<void> {
    let finished = () => {};
    journal.flushing = new Promise<void>((resolve) => (finished = resolve));
    while (journal.queued.length > 0) {
      const batch = journal.queued;
      journal.queued = [];
      let written: Set<string> | null = null;
      let failure: unknown = null;
      try {
        written = await writer.claimBatch(journal.tx, batch);
      } catch (error) {
        failure = error;
      }
      for (const claim of batch) claim.host.pendingWrites--;
      for (const claim of batch) {
        if (written) claim.done(written.has(claim.values.serverId));
        else claim.failed(failure);
      }
    }
    journal.flushing = null;
    finished();
  }

  function dropOp(journal: TxJournal, op: JournalOp): void {
    const at = journal.ops.lastIndexOf(op);
    if (at >= 0) journal.ops.splice(at, 1);
    undo(op);
  }

  async function release(tx: Tx, hooks: TxHooks, serverId: string): Promise<void> {
    await ensureLoaded(tx);
    const journal = journalOf(tx, hooks);
    let known = fleet.serverHost.get(serverId);
    while (known && known.owner && known.owner !== journal) {
      if (journal.hostIds.size > 0) {
        throw conflict(`host ${known.id} has pending placements of another transaction; retry`, { reason: 'host_busy' });
      }
      await (known.owner as TxJournal).settled;
      known = fleet.serverHost.get(serverId);
    }
    if (known) {
      known.owner = journal;
      journal.hostIds.add(known.id);
    }
    const released = await writer.release(tx, serverId);
    if (known && (!released || released.hostId !== known.id)) {
      // Memory disagreed with the database: forget the claim here and reread the host on next use.
      const claim = fleet.unclaim(known, serverId);
      if (claim) journal.ops.push({ kind: 'release', hostId: known.id, serverId, claim });
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
    host.owner = journal;
    journal.hostIds.add(host.id);
    const claim = fleet.unclaim(host, serverId);
    if (claim) journal.ops.push({ kind: 'release', hostId: host.id, serverId, claim });
    host.generation = host.generation >= 0 && released.generation === host.generation + 1 ? released.generation : -1;
  }

  return {
    fleet,
    place,
    release,
    hostOf: (serverId) => fleet.serverHost.get(serverId),
    async refreshHost(hostId) {
      await ensureLoaded(deps.db);
      await reloadHosts(deps.db, [hostId], null);
    },
    async reload() {
      const hosts = await loadHosts(deps.db);
      loading = Promise.resolve();
      const seen = new Set(hosts.map((host) => host.id));
      for (const id of [...fleet.hosts.keys()]) if (!seen.has(id)) fleet.drop(id);
      install(hosts, null);
      groupPolicies.clear();
    },
  };
}

function allocationValues(serverId: string, placement: Placement, createdAt: string): AllocationValues {
  return {
    serverId,
    hostId: placement.hostId,
    threadsJson: JSON.stringify(placement.threads),
    numaNodesJson: JSON.stringify(placement.numaNodes),
    memoryMiB: placement.memoryMiB,
    diskGiB: placement.diskGiB,
    gpusJson: JSON.stringify(placement.gpus),
    vfsJson: JSON.stringify(placement.vfs),
    createdAt,
  };
}
