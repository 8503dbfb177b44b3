import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createManualClock } from '../core/index.ts';
import { createTestDatabase, testDialects, type TestDatabase } from '../db/test-helpers.ts';
import { createAuditLog, type AuditEntry, type AuditLog } from './log.ts';
import { auditTablesOf } from './tables.ts';
import { createFailedAuthRecorder } from './failed-auth-recorder.ts';
import { auditActions } from './actions.ts';

const entry = (action: string, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  projectId: 'prj_1',
  actorUserId: 'usr_1',
  actorTokenId: 'tok_1',
  action,
  resourceType: 'server',
  resourceId: 'srv_1',
  outcome: 'success',
  statusCode: 202,
  requestId: 'req_1',
  sourceIp: '192.0.2.7',
  userAgent: 'vmcloud-cli/0.1',
  details: { note: action },
  ...overrides,
});

async function setup(dialect: 'sqlite' | 'postgres') {
  const t = await createTestDatabase(dialect);
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const audit = createAuditLog({ db: t.db, dialect, clock });
  return { t, clock, audit };
}

/** Seals until everything settled is sealed (on PostgreSQL another test's transaction can delay it). */
async function sealAll(t: TestDatabase, audit: AuditLog) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await audit.seal();
    const left = await auditTablesOf(t.db)
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sealed', '=', 0)
      .executeTakeFirstOrThrow();
    if (Number(left.n) === 0) return;
    if (Date.now() > deadline) throw new Error('rows left unsealed');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const ids = async (t: TestDatabase) =>
  (await auditTablesOf(t.db).selectFrom('audit_log').select('id').orderBy('seq').execute()).map((r) => r.id);

for (const dialect of testDialects()) {
  test(`audit: rows written in a rolled-back transaction do not exist (${dialect})`, async () => {
    const { t, audit } = await setup(dialect);
    try {
      await assert.rejects(
        t.db.transaction().execute(async (tx) => {
          await audit.append(tx, entry('POST /v1/servers'));
          throw new Error('the mutation failed');
        }),
        /mutation failed/,
      );
      await t.db.transaction().execute((tx) => audit.append(tx, entry('DELETE /v1/servers/srv_1')));
      await audit.append(null, entry('auth.failed'));
      const { entries } = await audit.list({ projectId: null, limit: 10, cursor: null });
      assert.deepEqual(entries.map((e) => e.action).sort(), ['DELETE /v1/servers/srv_1', 'auth.failed']);
    } finally {
      await t.dispose();
    }
  });

  test(`audit: tampering with any field of a sealed row is detected and named (${dialect})`, async () => {
    const { t, clock, audit } = await setup(dialect);
    try {
      for (let i = 0; i < 6; i++) {
        await audit.append(null, entry(`action ${i}`));
        clock.advanceMs(1000);
      }
      assert.deepEqual(await audit.verify(), { ok: true, checked: 0, unsealed: 6 }, 'nothing sealed yet');
      await sealAll(t, audit);
      assert.deepEqual(await audit.verify(), { ok: true, checked: 6, unsealed: 0 });
      const [, , victim] = await ids(t);
      const fields: Array<[string, string | number | null]> = [
        ['at', '2020-01-01T00:00:00.000Z'],
        ['project_id', 'prj_other'],
        ['actor_user_id', 'usr_attacker'],
        ['actor_token_id', null],
        ['action', 'GET /v1/nothing'],
        ['resource_type', 'host'],
        ['resource_id', 'srv_2'],
        ['outcome', 'failure'],
        ['status_code', 200],
        ['request_id', 'req_2'],
        ['source_ip', '203.0.113.1'],
        ['user_agent', 'curl'],
        ['details_json', '{"note":"nothing to see"}'],
        ['prev_hash', '0'.repeat(64)],
        ['hash', 'f'.repeat(64)],
      ];
      for (const [field, value] of fields) {
        const before = await sql<
          Record<string, unknown>
        >`select ${sql.ref(field)} as v from audit_log where id = ${victim}`.execute(t.db);
        await sql`update audit_log set ${sql.ref(field)} = ${value} where id = ${victim}`.execute(t.db);
        const result = await audit.verify();
        assert.equal(result.ok, false, `a change of ${field} is detected`);
        assert.equal(result.firstBad?.id, victim, `a change of ${field} names the row`);
        await sql`update audit_log set ${sql.ref(field)} = ${before.rows[0].v as string} where id = ${victim}`.execute(
          t.db,
        );
        assert.equal((await audit.verify()).ok, true, `restoring ${field} restores the chain`);
      }
    } finally {
      await t.dispose();
    }
  });

  test(`audit: removed and unsealed rows are detected (${dialect})`, async () => {
    const { t, audit } = await setup(dialect);
    try {
      for (let i = 0; i < 5; i++) await audit.append(null, entry(`action ${i}`));
      await sealAll(t, audit);
      const all = await ids(t);

      await sql`update audit_log set sealed = 0 where id = ${all[1]}`.execute(t.db);
      assert.equal((await audit.verify()).firstBad?.id, all[1]);
      await sql`update audit_log set sealed = 1 where id = ${all[1]}`.execute(t.db);

      await sql`delete from audit_log where id = ${all[2]}`.execute(t.db);
      const middle = await audit.verify();
      assert.equal(middle.firstBad?.id, all[3], 'the row after the gap is named');
      assert.match(middle.firstBad?.reason ?? '', /removed/);

      await sql`delete from audit_log where id = ${all[4]}`.execute(t.db);
      await sql`delete from audit_log where id = ${all[3]}`.execute(t.db);
      const tail = await audit.verify();
      assert.equal(tail.ok, false, 'rows cut off the end are noticed (the head records a later hash)');
      assert.equal(tail.firstBad?.id, all[1]);
    } finally {
      await t.dispose();
    }
  });

  test(`audit: pruning old rows keeps the chain verifiable (${dialect})`, async () => {
    const { t, clock, audit } = await setup(dialect);
    try {
      for (let i = 0; i < 4; i++) {
        await audit.append(null, entry(`old ${i}`));
        clock.advanceMs(30 * 86_400_000);
      }
      await audit.append(null, entry('recent'));
      await sealAll(t, audit);
      await audit.append(null, entry('not sealed yet'));
      clock.advanceMs(86_400_000);
      // Day 121: old 0 at day 0, old 1 at day 30, old 2 at day 60, old 3 at day 90, recent at day 120.
      assert.deepEqual(await audit.prune({ olderThanDays: 90 }), { pruned: 2 });
      const left = await audit.list({ projectId: null, limit: 10, cursor: null });
      assert.deepEqual(left.entries.map((e) => e.action).sort(), ['not sealed yet', 'old 2', 'old 3', 'recent']);
      assert.deepEqual(await audit.verify(), { ok: true, checked: 3, unsealed: 1 });
      assert.deepEqual(await audit.prune({ olderThanDays: 0 }), { pruned: 3 }, 'never an unsealed row');
      await sealAll(t, audit);
      assert.deepEqual(await audit.verify(), { ok: true, checked: 1, unsealed: 0 });
      assert.deepEqual(await audit.prune({ olderThanDays: 90 }), { pruned: 0 });
    } finally {
      await t.dispose();
    }
  });

  test(`audit: export as JSON lines since a time (${dialect})`, async () => {
    const { t, clock, audit } = await setup(dialect);
    try {
      await audit.append(null, entry('before'));
      clock.advanceMs(60_000);
      const since = clock.nowIso();
      await audit.append(null, entry('at since'));
      clock.advanceMs(1);
      await audit.append(null, entry('after', { details: { n: 1 }, sourceIp: null }));
      await sealAll(t, audit);
      const lines: string[] = [];
      for await (const line of audit.exportJsonLines({ since })) lines.push(line);
      assert.equal(lines.length, 2);
      for (const line of lines) assert.equal(line.includes('\n'), false);
      const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(first['@timestamp'], since);
      assert.deepEqual(
        { action: second.action, outcome: second.outcome, details: second.details, source_ip: second.source_ip },
        { action: 'after', outcome: 'success', details: { n: 1 }, source_ip: null },
      );
      assert.deepEqual(first.actor, { user_id: 'usr_1', token_id: 'tok_1' });
      assert.deepEqual(first.resource, { type: 'server', id: 'srv_1' });
      assert.equal(first.request_id, 'req_1');
      assert.equal(second.prev_hash, first.hash);
    } finally {
      await t.dispose();
    }
  });

  test(`audit: failed authentications are limited per IP, then summarised (${dialect})`, async () => {
    const { t, clock, audit } = await setup(dialect);
    try {
      const failed = createFailedAuthRecorder({ audit, clock, limit: { limitPerWindow: 3 } });
      const attempt = (sourceIp: string) =>
        failed.record({ sourceIp, reason: 'unknown', requestId: null, userAgent: null });
      for (let i = 0; i < 10; i++) await attempt('198.51.100.9');
      await attempt('198.51.100.10');
      clock.advanceMs(60_000);
      await failed.flush();
      const rows = await auditTablesOf(t.db).selectFrom('audit_log').selectAll().orderBy('seq').execute();
      assert.deepEqual(
        rows.map((r) => `${r.action} ${r.source_ip}`),
        [
          ...Array(3).fill(`${auditActions.authFailed} 198.51.100.9`),
          `${auditActions.authFailed} 198.51.100.10`,
          `${auditActions.authFailedSummary} 198.51.100.9`,
        ],
      );
      assert.equal(JSON.parse(rows[4].details_json).suppressed, 7);
    } finally {
      await t.dispose();
    }
  });
}

test(
  'audit on PostgreSQL: writers never wait on the chain; rows are chained in commit order',
  {
    skip: !testDialects().includes('postgres') && 'TEST_DATABASE_URL is not set',
  },
  async () => {
    const { t, audit } = await setup('postgres');
    try {
      const slow = await t.db.startTransaction().execute();
      await audit.append(slow, entry('slow writer'));
      await audit.append(null, entry('fast writer')); // does not wait for `slow`
      await audit.seal();
      assert.deepEqual((await audit.verify()).checked, 0, 'the fast row waits for the older transaction');
      await slow.commit().execute();
      await sealAll(t, audit);
      const chain = await auditTablesOf(t.db)
        .selectFrom('audit_log')
        .select(['action', 'prev_hash', 'hash'])
        .orderBy('tx_id')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        chain.map((r) => r.action),
        ['slow writer', 'fast writer'],
      );
      assert.equal(chain[1].prev_hash, chain[0].hash);
      assert.deepEqual(await audit.verify(), { ok: true, checked: 2, unsealed: 0 });
    } finally {
      await t.dispose();
    }
  },
);
