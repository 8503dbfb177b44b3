/**
 * `npm run bench:backups -- --json`: a region of 10,000 servers for 30 days in accelerated time, under the
 * default policy (every 5 h 30 min at per-server offsets, keep-last 5 + keep-daily 7 locally, 30 days
 * remotely), with the sim backup model (src/compute/drivers/sim/sim-backup.ts) and the real pure parts of
 * the backups domain: schedule (`nextRunMs`), retention and prune (`planPrune`). Prints the RPO measured every
 * simulated 10 minutes over the last 7 days (p50/p99 over servers and samples), what the repository holds,
 * and the CPU the scheduling decisions took (the due-selection the worker does each tick, in memory here;
 * on a database it is an index range scan of `backup_schedules_due`).
 *
 * What the repositories hold is computed from the snapshots retained at the end, per server and per
 * repository (local, remote): restic keeps one copy of each distinct chunk, so a repository holds the
 * oldest retained snapshot's used bytes plus, for each later retained snapshot, the bytes that changed
 * since the one before it — with writes spread at random over the used bytes at the server's change rate,
 * `used × (1 − e^(−rate × hours))` (a block rewritten twice is stored once per retained version).
 * `dedupRatio` = logical bytes of the retained snapshots / distinct bytes they need. Stored bytes are the
 * distinct bytes × `packedPerUniqueByte`, measured with a real restic run (docs/benchmarks.md): restic 0.14
 * `backup --compression auto` of /usr/bin + /usr/share/doc (617,787,982 bytes) left a 214,915,849-byte
 * repository: 0.348. No deduplication between servers is counted (servers of one image share their image's
 * chunks in a real repository): storedTiB is an upper bound.
 */
import { nextRunMs, planPrune, defaultPolicy } from '../src/backups/index.ts';
import { createSimBackupModel, simDiskOf } from '../src/compute/index.ts';

const args = process.argv.slice(2);
const servers = Number(args[args.indexOf('--servers') + 1]) || 10_000;
const days = Number(args[args.indexOf('--days') + 1]) || 30;
const json = args.includes('--json');
const tickMs = 10_000;
const diskBytes = 80 * 1024 ** 3;
const start = Date.parse('2026-01-01T00:00:00Z');
const end = start + days * 86_400_000;
const model = createSimBackupModel();
const policy = defaultPolicy;
/** Repository bytes per distinct byte backed up (compression and in-snapshot dedup), measured: see above. */
const packedPerUniqueByte = 214_915_849 / 617_787_982;

interface Copy {
  id: string;
  takenAtMs: number;
  local: boolean;
  remote: boolean;
  storedBytes: number;
  readBytes: number;
}
const ids = Array.from({ length: servers }, (_, i) => `srv_bench${String(i).padStart(6, '0')}`);
const next = new Float64Array(servers);
const finishAt = new Float64Array(servers).fill(Infinity);
const history: Copy[][] = ids.map(() => []);
/** The newest backup that finished (restorable), per server: its point in time. */
const restorableAt = new Float64Array(servers).fill(-Infinity);
const disks = ids.map((id) => simDiskOf(id));
const pendingOutcome: (Copy | null)[] = ids.map(() => null);
// A min-heap would be the database index; a bucketed wheel keyed by tick is enough here.
const wheel = new Map<number, number[]>();
/** Backups finishing, by tick (a backup is restorable from the tick it finished in). */
const finishing = new Map<number, number[]>();
const slot = (ms: number) => Math.ceil(ms / tickMs);
for (let i = 0; i < servers; i++) {
  next[i] = nextRunMs(ids[i], policy.everyMinutes, start);
  const s = slot(next[i]);
  (wheel.get(s) ?? wheel.set(s, []).get(s)!).push(i);
}

let backups = 0;
let schedulerCpuUs = 0;
let readTotal = 0;
const sampleEveryMs = 600_000;
const sampleFromMs = end - 7 * 86_400_000;
const rpoSamplesMin = new Float64Array(servers * (Math.floor((end - sampleFromMs) / sampleEveryMs) + 1));
let samples = 0;
for (let now = start; now <= end; now += tickMs) {
  // Backups that finish by now become restorable.
  for (const i of finishing.get(slot(now)) ?? []) restorableAt[i] = pendingOutcome[i]!.takenAtMs;
  finishing.delete(slot(now));
  // Backups that finish now become restorable.
  const cpu = process.cpuUsage();
  const due = wheel.get(slot(now)) ?? [];
  wheel.delete(slot(now));
  for (const i of due) {
    const list = history[i];
    const parent = list.at(-1);
    const outcome = model.backup(
      {
        backupId: `b${backups}`,
        serverId: ids[i],
        hostId: 'h',
        region: 'fra1',
        parentSnapshot: parent ? parent.id : null,
        parentTakenAtMs: parent ? parent.takenAtMs : null,
        remoteRegion: 'ams1',
        volumes: [],
        diskBytes,
      },
      now,
      parent ? parent.takenAtMs : null,
    );
    backups++;
    pendingOutcome[i] = {
      id: `b${backups}`,
      takenAtMs: now,
      local: true,
      remote: true,
      storedBytes: outcome.storedBytes,
      readBytes: outcome.readBytes,
    };
    finishAt[i] = now + outcome.durationMs;
    const f = slot(finishAt[i]);
    (finishing.get(f) ?? finishing.set(f, []).get(f)!).push(i);
    next[i] = nextRunMs(ids[i], policy.everyMinutes, now);
    const s = slot(next[i]);
    (wheel.get(s) ?? wheel.set(s, []).get(s)!).push(i);
  }
  const used = process.cpuUsage(cpu);
  schedulerCpuUs += used.user + used.system;
  for (const i of due) {
    // Completion and prune (the worker's job, not the scheduler's).
    const done = pendingOutcome[i]!;
    history[i].push(done);
    readTotal += done.readBytes;
    const plan = planPrune(history[i], { ...policy, remoteKeepDays: policy.remoteKeepDays }, now);
    const dropL = new Set(plan.dropLocal);
    const dropR = new Set(plan.dropRemote);
    history[i] = history[i]
      .map((c) => ({ ...c, local: c.local && !dropL.has(c.id), remote: c.remote && !dropR.has(c.id) }))
      .filter((c) => c.local || c.remote);
  }
  if ((now - start) % sampleEveryMs === 0 && now >= sampleFromMs)
    for (let i = 0; i < servers; i++)
      if (restorableAt[i] > -Infinity) rpoSamplesMin[samples++] = (now - restorableAt[i]) / 60_000;
}
// What the repositories hold at the end: per server and repository, the distinct bytes of the retained snapshots.
let logicalBytes = 0;
let distinctBytes = 0;
for (let i = 0; i < servers; i++) {
  const used = diskBytes * disks[i].usedFraction;
  for (const copies of [history[i].filter((c) => c.local), history[i].filter((c) => c.remote)]) {
    copies.forEach((c, k) => {
      logicalBytes += used;
      const hours = k === 0 ? Infinity : (c.takenAtMs - copies[k - 1].takenAtMs) / 3600_000;
      distinctBytes += used * (1 - Math.exp(-disks[i].changeRatePerHour * hours));
    });
  }
}
const storedBytes = distinctBytes * packedPerUniqueByte;
const sorted = rpoSamplesMin.subarray(0, samples).sort();
const pct = (p: number) => sorted[Math.min(samples - 1, Math.ceil((p / 100) * samples) - 1)];
const result = {
  servers,
  days,
  backups,
  rpoP50Min: Math.round(pct(50) * 10) / 10,
  rpoP99Min: Math.round(pct(99) * 10) / 10,
  rpoMaxMin: Math.round(sorted[samples - 1] * 10) / 10,
  storedTiB: Math.round((storedBytes / 1024 ** 4) * 1000) / 1000,
  dedupRatio: Math.round((logicalBytes / distinctBytes) * 10) / 10,
  logicalTiB: Math.round((logicalBytes / 1024 ** 4) * 100) / 100,
  packedPerUniqueByte: Math.round(packedPerUniqueByte * 1000) / 1000,
  readTiB: Math.round((readTotal / 1024 ** 4) * 100) / 100,
  schedulerCpuMs: Math.round(schedulerCpuUs / 1000),
  benchCpuMs: Math.round(process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000),
  note: 'sim model; storedTiB: local + remote repositories at the end (distinct bytes of retained snapshots × measured packing, no cross-server dedup)',
};
process.stdout.write(json ? JSON.stringify(result) + '\n' : JSON.stringify(result, null, 2) + '\n');
