import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inTransaction } from '../db/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import {
  insertHosts,
  insertPlacementGroup,
  insertProject,
  insertRegions,
  insertServers,
  markServersDeleted,
  readAllocations,
  readHosts,
  setHostHealth,
  setHostState,
  shapeHost,
} from './store/fixtures.ts';
import {
  createScheduler,
  defaultFilters,
  type HostFilter,
  type PlacementScheduler,
  type SchedulerDeps,
} from './index.ts';
import { gpuRequest, placeOne, releaseOne, vpsRequest } from './test-support.ts';
import type { HostShapeName } from '../inventory/shapes.ts';

const GiB = 1024;

async function setup(
  dialect: 'sqlite' | 'postgres',
  hosts: Array<[string, HostShapeName, string?]>,
  servers = 40,
  options: Partial<SchedulerDeps> = {},
) {
  const database = await createTestDatabase(dialect);
  await insertRegions(database.db);
  await insertHosts(
    database.db,
    hosts.map(([id, shape, state]) => shapeHost(id, 'fra1', shape, state ?? 'active')),
  );
  await insertProject(database.db, 'prj_test');
  await insertPlacementGroup(database.db, { id: 'pg_web', projectId: 'prj_test', name: 'web', policy: 'spread' });
  await insertServers(
    database.db,
    Array.from({ length: servers }, (_, i) => ({
      id: `srv_${i}`,
      projectId: 'prj_test',
      region: 'fra1',
      placementGroupId: i >= 30 ? 'pg_web' : null,
    })),
  );
  const scheduler = createScheduler({ db: database.db, dialect, ...options });
  await scheduler.reload();
  return { database, scheduler };
}

async function assertAuditClean(scheduler: PlacementScheduler) {
  const audit = await scheduler.auditPlacement();
  assert.deepEqual(audit.violations, []);
}

for (const dialect of testDialects()) {
  test(`${dialect}: a claim names threads, NUMA node and devices and is written with the host generation`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_g', 'gpu-t4x4'],
    ]);
    try {
      const vps = await placeOne(database.db, scheduler, vpsRequest('srv_0', 'fra1', 3, 8 * GiB, { sriovVfs: 1 }));
      assert.ok(vps.ok);
      assert.equal(vps.placement.hostId, 'host_a');
      assert.equal(vps.placement.threads.length, 3);
      assert.equal(vps.placement.coreThreads.length, 4, 'two whole cores for three vCPUs');
      assert.equal(vps.placement.numaNodes.length, 1);
      assert.equal(vps.placement.vfs.length, 1);
      const gpu = await placeOne(database.db, scheduler, gpuRequest('srv_1', 'fra1', 'nvidia-t4'));
      assert.ok(gpu.ok);
      assert.equal(gpu.placement.hostId, 'host_g', 'GPU products go to GPU hosts');
      const host = (await readHosts(database.db)).find((row) => row.id === 'host_a');
      assert.equal(host?.generation, 2);
      const rows = await readAllocations(database.db);
      assert.deepEqual(JSON.parse(rows[0].threads_json), vps.placement.threads);
      assert.deepEqual(JSON.parse(rows[0].numa_nodes_json), vps.placement.numaNodes);
      assert.deepEqual(JSON.parse(rows[0].vfs_json), vps.placement.vfs);
      assert.deepEqual(JSON.parse(rows[1].gpus_json), gpu.placement.gpus);
      await releaseOne(database.db, scheduler, 'srv_0');
      const again = await placeOne(database.db, scheduler, vpsRequest('srv_2', 'fra1', 3, 8 * GiB, { sriovVfs: 1 }));
      assert.ok(again.ok);
      assert.deepEqual(again.placement.threads, vps.placement.threads, 'released threads are free again');
      await assertAuditClean(scheduler);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a failure says which filters rejected how many hosts and what is left`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543', 'draining'],
      ['host_c', 'std-7543', 'maintenance'],
      ['host_g', 'gpu-t4x4'],
    ]);
    try {
      for (let i = 0; i < 7; i++)
        assert.ok((await placeOne(database.db, scheduler, vpsRequest(`srv_${i}`, 'fra1', 16, 64 * GiB))).ok);
      const outcome = await placeOne(database.db, scheduler, vpsRequest('srv_9', 'fra1', 16, 64 * GiB));
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.deepEqual(
        outcome.failure.rejections.map((r) => [r.filter, r.hosts]),
        [
          ['host_draining', 1],
          ['maintenance', 1],
          ['pool', 1],
          ['cores', 1],
        ],
      );
      assert.deepEqual(outcome.failure.largestAvailable, { vcpus: 8, memoryMiB: 496 * GiB - 7 * 64 * GiB, gpus: 0 });
      assert.equal(
        outcome.failure.message,
        'no host in FRA1 has 8 free cores (16 vCPUs) and 64 GiB of memory (1 host is draining, 1 is in maintenance, 1 is reserved for GPU products, 1 lacks 8 free cores); the largest still available is 8 vCPUs with 48 GiB',
      );
      const none = await placeOne(database.db, scheduler, vpsRequest('srv_10', 'par1', 1, GiB));
      assert.equal(none.ok ? '' : none.failure.message, 'no host in PAR1: the region has no hosts');
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: two schedulers on one database never hand out the same thread`, async () => {
    const { database, scheduler: first } = await setup(dialect, [['host_a', 'std-7543']]);
    try {
      const second = createScheduler({ db: database.db, dialect });
      await second.reload();
      const a = await placeOne(database.db, first, vpsRequest('srv_0', 'fra1', 8, GiB));
      const b = await placeOne(database.db, second, vpsRequest('srv_1', 'fra1', 8, GiB));
      assert.ok(a.ok && b.ok);
      assert.equal(
        new Set([...a.placement.coreThreads, ...b.placement.coreThreads]).size,
        16,
        'stale memory was reloaded, not trusted',
      );
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          placeOne(database.db, i % 2 ? first : second, vpsRequest(`srv_${i + 2}`, 'fra1', 4, GiB)),
        ),
      );
      assert.ok(concurrent.every((outcome) => outcome.ok));
      await assertAuditClean(first);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a host state change by another writer is seen at the next claim`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543'],
    ]);
    try {
      const first = await placeOne(database.db, scheduler, vpsRequest('srv_0', 'fra1', 2, GiB));
      assert.ok(first.ok);
      await setHostState(database.db, first.placement.hostId, 'maintenance');
      const next = await placeOne(database.db, scheduler, vpsRequest('srv_1', 'fra1', 2, GiB));
      assert.ok(next.ok);
      assert.notEqual(next.placement.hostId, first.placement.hostId);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a rolled back transaction leaves no claim in memory`, async () => {
    const { database, scheduler } = await setup(dialect, [['host_a', 'std-7543']]);
    try {
      let threads: number[] = [];
      await assert.rejects(
        inTransaction(database.db, async (tx, hooks) => {
          const outcome = await scheduler.place(tx, hooks, vpsRequest('srv_0', 'fra1', 4, GiB));
          if (outcome.ok) threads = outcome.placement.threads;
          throw new Error('caller failed later');
        }),
      );
      const again = await placeOne(database.db, scheduler, vpsRequest('srv_0', 'fra1', 4, GiB));
      assert.ok(again.ok);
      assert.deepEqual(again.placement.threads, threads);
      await assertAuditClean(scheduler);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a spread placement group puts no two members on one host`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543'],
    ]);
    try {
      const a = await placeOne(
        database.db,
        scheduler,
        vpsRequest('srv_30', 'fra1', 2, GiB, { placementGroupId: 'pg_web' }),
      );
      const b = await placeOne(
        database.db,
        scheduler,
        vpsRequest('srv_31', 'fra1', 2, GiB, { placementGroupId: 'pg_web' }),
      );
      assert.ok(a.ok && b.ok);
      assert.notEqual(a.placement.hostId, b.placement.hostId);
      const c = await placeOne(
        database.db,
        scheduler,
        vpsRequest('srv_32', 'fra1', 2, GiB, { placementGroupId: 'pg_web' }),
      );
      assert.equal(c.ok, false);
      if (!c.ok)
        assert.deepEqual(
          c.failure.rejections.map((r) => r.filter),
          ['placement_group'],
        );
      const other = createScheduler({ db: database.db, dialect });
      const d = await placeOne(
        database.db,
        other,
        vpsRequest('srv_33', 'fra1', 2, GiB, { placementGroupId: 'pg_web' }),
      );
      assert.equal(d.ok, false, 'a fresh scheduler reads group members from the claims');
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: draining re-places every server elsewhere and reports what cannot move`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543'],
    ]);
    try {
      for (let i = 0; i < 4; i++)
        assert.ok((await placeOne(database.db, scheduler, vpsRequest(`srv_${i}`, 'fra1', 16, 64 * GiB))).ok);
      const source = (await readAllocations(database.db)).map((r) => r.host_id);
      const from = source[0];
      assert.ok(
        source.every((hostId) => hostId === from),
        'best fit packed one host',
      );
      assert.ok(
        (await placeOne(database.db, scheduler, vpsRequest('srv_5', 'fra1', 88, 64 * GiB, { avoidHostIds: [from] })))
          .ok,
        'fills most of the other host',
      );
      await setHostState(database.db, from, 'draining');
      await scheduler.refreshHost(from);
      const plan = await scheduler.planDrain(from);
      const moved: string[] = [];
      const report = await scheduler.drainHost(from, async (_tx, _hooks, move) => {
        moved.push(move.serverId);
      });
      assert.equal(report.moved.length, 2, 'the other host has room for two');
      assert.equal(report.stuck.length, 2);
      assert.match(report.stuck[0].failure?.message ?? '', /1 host is draining/);
      assert.deepEqual(
        plan.moved.map((m) => m.serverId).sort(),
        report.moved.map((m) => m.serverId).sort(),
        'the plan matches the drain',
      );
      assert.deepEqual(moved.sort(), report.moved.map((m) => m.serverId).sort());
      for (const move of report.moved) assert.notEqual(move.placement.hostId, from);
      await assertAuditClean(scheduler);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: capacity counts what still fits, per product, from the claims`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_g', 'gpu-t4x4'],
    ]);
    try {
      assert.ok((await placeOne(database.db, scheduler, vpsRequest('srv_0', 'fra1', 16, 64 * GiB))).ok);
      const [fra1] = await scheduler.capacity('fra1');
      const servers = Object.fromEntries(fra1.products.map((p) => [p.product, p.servers]));
      assert.equal(servers['vps-nano'], 52, '60 sellable cores minus 8, one NANO per core');
      assert.equal(servers['vps-enterprise-plus'], 6);
      assert.equal(servers['gpu-t4'], 4);
      assert.equal(fra1.compute.used, 8);
      assert.equal(fra1.gpus.total, 4);
      assert.equal(fra1.products.find((p) => p.product === 'gpu-rtx4090')?.availability, 'none');
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a filter added to the list changes both the decision and the explanation`, async () => {
    const olderCpu: HostFilter = {
      name: 'cpu_generation',
      kind: 'eligibility',
      rejects: (host) => host.name.endsWith('_old'),
      reason: () => 'run an older CPU generation',
    };
    const hosts: Array<[string, HostShapeName]> = [
      ['host_a_old', 'std-7543'],
      ['host_b', 'std-7543'],
    ];
    const plain = await setup(dialect, hosts);
    const filtered = await setup(dialect, hosts, 40, { filters: [...defaultFilters, olderCpu] });
    try {
      const hostsOf = async (run: typeof plain, count: number) => {
        const chosen: string[] = [];
        for (let i = 0; i < count; i++) {
          const outcome = await placeOne(run.database.db, run.scheduler, vpsRequest(`srv_${i}`, 'fra1', 16, 64 * GiB));
          chosen.push(outcome.ok ? outcome.placement.hostId : 'none');
        }
        return chosen;
      };
      // Seven 16-vCPU servers fill a host (60 sellable cores, 496 GiB): the eighth needs the other host.
      const withoutFilter = await hostsOf(plain, 8);
      assert.ok(withoutFilter.includes('host_a_old'), 'without the filter, host_a_old takes servers');
      const withFilter = await hostsOf(filtered, 8);
      assert.ok(
        withFilter.every((hostId) => hostId === 'host_b' || hostId === 'none'),
        'the decision honours the new filter',
      );
      const failed = await placeOne(
        filtered.database.db,
        filtered.scheduler,
        vpsRequest('srv_9', 'fra1', 16, 64 * GiB),
      );
      assert.equal(failed.ok, false);
      if (failed.ok) return;
      assert.deepEqual(
        failed.failure.rejections.map((r) => [r.filter, r.hosts]),
        [
          ['cores', 1],
          ['cpu_generation', 1],
        ],
      );
      assert.equal(
        failed.failure.message,
        'no host in FRA1 has 8 free cores (16 vCPUs) and 64 GiB of memory (1 host lacks 8 free cores, 1 runs an older CPU generation); the largest still available is 8 vCPUs with 48 GiB',
      );
    } finally {
      await plain.database.dispose();
      await filtered.database.dispose();
    }
  });

  test(`${dialect}: releases in one transaction are written together and free their resources`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543'],
    ]);
    try {
      const placed = await inTransaction(database.db, (tx, hooks) =>
        Promise.all(
          Array.from({ length: 20 }, (_, i) => scheduler.place(tx, hooks, vpsRequest(`srv_${i}`, 'fra1', 6, 8 * GiB))),
        ),
      );
      assert.ok(placed.every((outcome) => outcome.ok));
      const before = await readHosts(database.db);
      const gone = Array.from({ length: 10 }, (_, i) => `srv_${2 * i}`);
      await inTransaction(database.db, async (tx, hooks) => {
        await Promise.all(gone.map((serverId) => scheduler.release(tx, hooks, serverId)));
        await markServersDeleted(tx, gone);
      });
      const rows = await readAllocations(database.db);
      assert.deepEqual(
        rows.map((row) => row.server_id).sort(),
        Array.from({ length: 10 }, (_, i) => `srv_${2 * i + 1}`).sort(),
      );
      const after = await readHosts(database.db);
      const releasedPerHost = new Map<string, number>();
      for (const outcome of placed)
        if (outcome.ok && gone.includes(`srv_${placed.indexOf(outcome)}`))
          releasedPerHost.set(outcome.placement.hostId, (releasedPerHost.get(outcome.placement.hostId) ?? 0) + 1);
      for (const host of after)
        assert.equal(
          host.generation,
          (before.find((row) => row.id === host.id)?.generation ?? 0) + (releasedPerHost.get(host.id) ?? 0),
          `${host.id} moved on once per release`,
        );
      // Memory followed: the freed cores are placed again without a reread, and the audit is clean.
      const again = await inTransaction(database.db, (tx, hooks) =>
        Promise.all(gone.map((_, i) => scheduler.place(tx, hooks, vpsRequest(`srv_${20 + i}`, 'fra1', 6, 8 * GiB)))),
      );
      assert.ok(again.every((outcome) => outcome.ok));
      await assertAuditClean(scheduler);
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: the audit reads claims page by page and finds deleted and missing servers`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543'],
    ]);
    try {
      assert.ok((await placeOne(database.db, scheduler, vpsRequest('srv_0', 'fra1', 2, GiB))).ok);
      assert.ok((await placeOne(database.db, scheduler, vpsRequest('srv_1', 'fra1', 2, GiB))).ok);
      assert.ok((await placeOne(database.db, scheduler, vpsRequest('srv_ghost', 'fra1', 2, GiB))).ok);
      await markServersDeleted(database.db, ['srv_1']);
      const audit = await scheduler.auditPlacement();
      assert.equal(audit.hosts, 2);
      assert.equal(audit.allocations, 3);
      assert.deepEqual(audit.violations.map((v) => [v.kind, v.serverIds[0]]).sort(), [
        ['server_deleted', 'srv_1'],
        ['server_missing', 'srv_ghost'],
      ]);
      // A fresh scheduler loads the same claims (placement groups read per claim).
      const fresh = createScheduler({ db: database.db, dialect });
      await fresh.reload();
      const next = await placeOne(database.db, fresh, vpsRequest('srv_2', 'fra1', 2, GiB));
      assert.ok(next.ok);
      const taken = new Set(
        (await readAllocations(database.db)).flatMap((row) =>
          (JSON.parse(row.threads_json) as number[]).map((thread) => `${row.host_id}:${thread}`),
        ),
      );
      assert.equal(taken.size, 4 * 2, 'no thread handed out twice');
    } finally {
      await database.dispose();
    }
  });

  test(`${dialect}: a host that is not up takes nothing, and an unusable one is left out of the index`, async () => {
    const { database, scheduler } = await setup(dialect, [
      ['host_a', 'std-7543'],
      ['host_b', 'std-7543'],
    ]);
    try {
      const first = await placeOne(database.db, scheduler, vpsRequest('srv_0', 'fra1', 2, GiB));
      assert.ok(first.ok);
      const other = first.placement.hostId === 'host_a' ? 'host_b' : 'host_a';
      await setHostHealth(database.db, other, 'unusable', 'not a topology');
      await scheduler.refreshHost(other);
      const fresh = createScheduler({ db: database.db, dialect });
      await fresh.reload();
      for (const run of [scheduler, fresh]) {
        const [fra1] = await run.capacity('fra1');
        assert.equal(fra1.hosts, 1, 'the unusable host is not in the index');
      }
      await setHostHealth(database.db, first.placement.hostId, 'down');
      await scheduler.refreshHost(first.placement.hostId);
      const none = await placeOne(database.db, scheduler, vpsRequest('srv_1', 'fra1', 2, GiB));
      assert.equal(none.ok, false);
      if (!none.ok)
        assert.deepEqual(
          none.failure.rejections.map((r) => r.filter),
          ['host_down'],
        );
      const audit = await scheduler.auditPlacement();
      assert.equal(audit.hosts, 2, 'the audit reads every host row, readable or not');
      assert.deepEqual(audit.violations, []);
    } finally {
      await database.dispose();
    }
  });
}
