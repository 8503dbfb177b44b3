import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { silentLogger } from '../core/index.ts';
import { createTestDatabase } from './test-helpers.ts';
import { inTransaction } from './transaction.ts';
import { createPgNotifier, type Notifier } from './notify.ts';

/** Polls `probe` until true (deadline 10 s). */
async function eventually(what: string, probe: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const url = process.env.TEST_DATABASE_URL;

test(
  'change notices between replicas: delivered to the others, at commit only, again after the listener reconnects (postgres)',
  {
    skip: !url && 'needs TEST_DATABASE_URL',
  },
  async () => {
    const t = await createTestDatabase('postgres');
    const notifiers: Notifier[] = [];
    try {
      const make = (origin: string) => {
        const notifier = createPgNotifier({
          db: t.db,
          url: url!,
          pgSchema: t.pgSchema,
          origin,
          log: silentLogger,
          flushMs: 1,
        });
        notifiers.push(notifier);
        return notifier;
      };
      const a = make('replica-a');
      const b = make('replica-b');
      const heardByA: string[] = [];
      const heardByB: string[] = [];
      let resyncsOfB = 0;
      a.subscribe('tokens', (payload) => heardByA.push(payload));
      b.subscribe('tokens', (payload) => heardByB.push(payload));
      b.onResync(() => resyncsOfB++);
      await a.start();
      await b.start();
      assert.ok(a.listening() && b.listening());

      a.publish('tokens', 'tok_1');
      a.publish('tokens', 'tok_2');
      await eventually('B hearing both', () => heardByB.length === 2);
      assert.deepEqual(heardByB, ['tok_1', 'tok_2']);
      assert.deepEqual(heardByA, [], 'a replica does not hear itself');

      await assert.rejects(
        inTransaction(t.db, async (tx) => {
          await a.publishInTx(tx, 'tokens', 'rolled-back');
          throw new Error('roll back');
        }),
      );
      await inTransaction(t.db, (tx) => a.publishInTx(tx, 'tokens', 'committed'));
      await eventually('B hearing the committed notice', () => heardByB.includes('committed'));
      assert.ok(!heardByB.includes('rolled-back'), 'a rolled-back transaction sends nothing');

      // Another schema's notices (another test, another installation on the same database) are not heard.
      const other = createPgNotifier({
        db: t.db,
        url: url!,
        pgSchema: 'elsewhere',
        origin: 'c',
        log: silentLogger,
        flushMs: 1,
      });
      notifiers.push(other);
      other.publish('tokens', 'foreign');

      // The listener's connection is cut: it reconnects, tells its caches to resync, and hears again.
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'vmcloud-notify:replica-b'`.execute(
        t.db,
      );
      const before = resyncsOfB;
      await eventually('B resyncing after reconnecting', () => resyncsOfB > before && b.listening());
      a.publish('tokens', 'after-reconnect');
      await eventually('B hearing after reconnecting', () => heardByB.includes('after-reconnect'));
      assert.ok(!heardByB.includes('foreign'));
    } finally {
      for (const notifier of notifiers) await notifier.close();
      await t.dispose();
    }
  },
);
