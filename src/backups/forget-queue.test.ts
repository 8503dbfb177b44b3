/**
 * Snapshots of dropped backup copies are forgotten through a queue written in the dropping transaction: a
 * forget that fails (the repository locked) stays queued and is tried again at the next pass, so no
 * snapshot is left behind unreferenced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEventBus, createManualClock, silentLogger } from '../core/index.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createEventRecorder } from '../events/record.ts';
import { createBackupService } from './service.ts';
import type { BackupExecutor } from './executor.ts';
import { backupTablesOf } from './tables.ts';

for (const dialect of testDialects()) {
  test(`a failed forget stays queued and is retried at the next pass (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const clock = createManualClock();
      const forgetCalls: { region: string; snapshots: string[] }[] = [];
      let locked = true;
      const executor: BackupExecutor = {
        backup: () => Promise.reject(new Error('not used')),
        restore: () => Promise.reject(new Error('not used')),
        prune: async () => {},
        verify: async () => true,
        forget: async (region, snapshots) => {
          forgetCalls.push({ region, snapshots: [...snapshots].sort() });
          if (locked) throw new Error('unable to create lock in backend: repository is already locked');
        },
      };
      const backups = createBackupService({
        db: t.db,
        dialect,
        clock,
        log: silentLogger,
        events: createEventRecorder({ bus: createEventBus(), clock }),
        regionExists: async () => true,
        servers: {
          current: async () => null,
          create: () => Promise.reject(new Error('not used')),
          remove: () => Promise.reject(new Error('not used')),
        },
        executor,
      });
      // A backup the tenant deleted, with a copy in each region.
      await backupTablesOf(t.db)
        .insertInto('backups')
        .values({
          id: 'bkp_00000000000000000000000001',
          project_id: 'prj_1',
          server_id: 'srv_1',
          server_name: 'db-1',
          region: 'fra1',
          product: 'VPS-STARTER',
          image: 'debian-12',
          status: 'succeeded',
          trigger: 'manual',
          kind: 'full',
          consistency: 'crash',
          host_id: null,
          disk_bytes: 1,
          read_bytes: 1,
          stored_bytes: 1,
          duration_ms: 1,
          local_snapshot: 'aaaa1111',
          remote_region: 'ams1',
          remote_snapshot: 'bbbb2222',
          verified_at: null,
          error: null,
          created_at: clock.nowIso(),
          started_at: clock.nowIso(),
          finished_at: clock.nowIso(),
          taken_at_ms: clock.nowMs(),
          deleted_at: clock.nowIso(),
        })
        .execute();
      const queued = () =>
        backupTablesOf(t.db)
          .selectFrom('backup_forgets')
          .select(['region', 'snapshot', 'attempts', 'last_error'])
          .orderBy('region')
          .execute();

      await backups.runOnce({ verify: false });
      // The row is gone at once; both snapshots are queued, tried once, and stay with the error.
      const rows = await backupTablesOf(t.db).selectFrom('backups').select('id').execute();
      assert.equal(rows.length, 0);
      assert.deepEqual(forgetCalls.map((c) => [c.region, c.snapshots]).sort(), [
        ['ams1', ['bbbb2222']],
        ['fra1', ['aaaa1111']],
      ]);
      const failed = await queued();
      assert.deepEqual(
        failed.map((r) => [r.region, r.snapshot, r.attempts]),
        [
          ['ams1', 'bbbb2222', 1],
          ['fra1', 'aaaa1111', 1],
        ],
      );
      assert.match(failed[0].last_error ?? '', /already locked/);

      // The lock is gone: the next pass forgets both and empties the queue.
      locked = false;
      forgetCalls.length = 0;
      await backups.runOnce({ verify: false });
      assert.equal(forgetCalls.length, 2);
      assert.deepEqual(await queued(), []);

      // Nothing queued: a pass calls no forget.
      forgetCalls.length = 0;
      await backups.runOnce({ verify: false });
      assert.equal(forgetCalls.length, 0);
    } finally {
      await t.dispose();
    }
  });
}
