/**
 * Group commit inside one transaction: the claims and releases that a transaction's concurrent place() and
 * release() calls decide in one turn of the event loop are written together (a lone call waits one
 * `setImmediate` for company), in the order they were decided: each run of claims is one guarded batch,
 * each run of releases one delete and one generation bump.
 */
import type { Clock } from '../core/clock.ts';
import type { HostState } from './host-state.ts';
import type { TxJournal } from './journal.ts';
import type { AllocationInput, SchedulerStore } from './store/index.ts';

/** What one released server's batch did to its host. */
export interface ReleaseResult {
  hostId: string;
  /** The host's generation after the batch, and how many of the batch's releases it counted. */
  generation: number;
  count: number;
  /** Shared by the releases of one host in one batch: set once the host's generation was reconciled. */
  reconciled: { done: boolean };
}

export type QueuedWrite =
  | {
      kind: 'claim';
      host: HostState;
      row: AllocationInput;
      expectedGeneration: number;
      done: (written: boolean) => void;
      failed: (error: unknown) => void;
    }
  | {
      kind: 'release';
      serverId: string;
      done: (result: ReleaseResult | null) => void;
      failed: (error: unknown) => void;
    };

export interface WriteQueue {
  /** Resolves true when the claim was written, false when its host had moved on (generation or state). */
  claim(journal: TxJournal, host: HostState, row: AllocationInput, expectedGeneration: number): Promise<boolean>;
  /** Deletes a server's claim; null when it had none. */
  release(journal: TxJournal, serverId: string): Promise<ReleaseResult | null>;
  /** Waits until the journal's queued and in-flight writes are done, as long as `busy` says so. */
  settled(journal: TxJournal, busy: () => boolean): Promise<void>;
}

export function createWriteQueue(deps: { store: SchedulerStore; clock: Clock }): WriteQueue {
  const { store, clock } = deps;

  function enqueue(journal: TxJournal, write: QueuedWrite): void {
    journal.queue.push(write);
    if (journal.queue.length === 1 && journal.flushing === null) setImmediate(() => void flush(journal));
  }

  async function flush(journal: TxJournal): Promise<void> {
    let finished = () => {};
    journal.flushing = new Promise<void>((resolve) => (finished = resolve));
    try {
      while (journal.queue.length > 0) {
        const queued = journal.queue;
        journal.queue = [];
        for (let start = 0; start < queued.length;) {
          let end = start + 1;
          while (end < queued.length && queued[end].kind === queued[start].kind) end++;
          await writeRun(journal, queued.slice(start, end));
          start = end;
        }
      }
    } finally {
      journal.flushing = null;
      finished();
    }
  }

  async function writeRun(journal: TxJournal, run: QueuedWrite[]): Promise<void> {
    if (run[0].kind === 'claim') {
      const claims = run as Extract<QueuedWrite, { kind: 'claim' }>[];
      let written: Set<string> | null = null;
      let failure: unknown = null;
      try {
        written = await store.writeClaims(journal.tx, claims, clock.nowIso());
      } catch (error) {
        failure = error;
      }
      for (const claim of claims) claim.host.pendingWrites--;
      for (const claim of claims) {
        if (written) claim.done(written.has(claim.row.serverId));
        else claim.failed(failure);
      }
      return;
    }
    const releases = run as Extract<QueuedWrite, { kind: 'release' }>[];
    try {
      const released = await store.releaseClaims(
        journal.tx,
        releases.map((release) => release.serverId),
      );
      const reconciled = new Map<string, { done: boolean }>();
      for (const release of releases) {
        const hostId = released.hostOf.get(release.serverId);
        if (hostId === undefined) {
          release.done(null);
          continue;
        }
        let shared = reconciled.get(hostId);
        if (!shared) reconciled.set(hostId, (shared = { done: false }));
        release.done({
          hostId,
          generation: released.generation.get(hostId) ?? -1,
          count: released.count.get(hostId) ?? 1,
          reconciled: shared,
        });
      }
    } catch (error) {
      for (const release of releases) release.failed(error);
    }
  }

  return {
    claim(journal, host, row, expectedGeneration) {
      return new Promise<boolean>((done, failed) => {
        host.pendingWrites++;
        enqueue(journal, { kind: 'claim', host, row, expectedGeneration, done, failed });
      });
    },
    release(journal, serverId) {
      return new Promise<ReleaseResult | null>((done, failed) =>
        enqueue(journal, { kind: 'release', serverId, done, failed }),
      );
    },
    async settled(journal, busy) {
      while (busy()) await (journal.flushing ?? new Promise<void>((resolve) => setImmediate(resolve)));
    },
  };
}
