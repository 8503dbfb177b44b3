/**
 * The idempotency and audit plugins through app.inject(), over a real database: a route whose handler
 * writes in a transaction; the outcome of its Idempotency-Key and its audit entry commit with that
 * transaction, or not at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { createManualClock, sendProblem, toVmcError, VmcError } from '../../../core/index.ts';
import { defineOperation, Problem } from '../../../contract/index.ts';
import { createTestDatabase, testDialects } from '../../../db/test-helpers.ts';
import { inTransaction, type Db } from '../../../db/index.ts';
import { createIdempotencyService } from '../../../idempotency/index.ts';
import { createAuditLog } from '../../../audit/index.ts';
import type { Principal } from '../../../identity/index.ts';
import { createRouter } from '../route.ts';
import type { Api } from '../server.ts';
import { idempotencyPlugin } from './idempotency.ts';
import { auditPlugin } from './audit.ts';
import '../context.ts';

const makeThing = defineOperation({
  operationId: 'makeThing',
  method: 'POST',
  path: '/things',
  tags: ['test'],
  summary: 'make a thing',
  auth: 'project',
  body: Type.Object({ name: Type.String(), fail: Type.Optional(Type.Boolean()) }),
  status: 201,
  response: Type.Object({ thing: Type.Object({ id: Type.String(), name: Type.String() }) }),
  resource: 'thing',
});

async function setup(dialect: 'sqlite' | 'postgres') {
  const database = await createTestDatabase(dialect);
  const db: Db = database.db;
  const clock = createManualClock(Date.parse('2026-11-30T12:00:00Z'));
  const idempotency = createIdempotencyService({ db, clock });
  const audit = createAuditLog({ db, dialect, clock });
  const app = Fastify() as unknown as Api;
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, toVmcError(error)));
  app.addSchema({ $id: 'Problem', ...Problem });
  app.decorateRequest('transactionParticipants', null as never);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    request.transactionParticipants = [];
    const principal: Principal = { kind: 'project', tokenId: 'tok_t', userId: null, projectId: 'prj_t', role: 'owner' };
    request.principal = principal;
  });
  await app.register(auditPlugin, {
    audit,
    nowMs: clock.nowMs,
    failedAuth: { record: async () => {}, flush: async () => {} },
  });
  await app.register(
    Object.assign(async () => {}, {
      [Symbol.for('skip-override')]: true,
      [Symbol.for('plugin-meta')]: { name: 'vmcloud-authentication' },
    }),
  );
  await app.register(idempotencyPlugin, { idempotency });
  let made = 0;
  createRouter(app, { idempotency })(makeThing, ({ body }) =>
    inTransaction(db, async (tx) => {
      made++;
      // A real write in the request's transaction: the leases table is any table the test can use.
      await tx
        .insertInto('leases')
        .values({ name: `thing-${made}`, holder: body.name, expires_at_ms: 0, generation: 1 })
        .execute();
      if (body.fail) throw new VmcError('conflict', 'refused after writing', { reason: 'refused' });
      return { thing: { id: `thing_${made}`, name: body.name } };
    }),
  );
  const post = (body: unknown, key?: string) =>
    app.inject({
      method: 'POST',
      url: '/things',
      payload: body as object,
      headers: key ? { 'idempotency-key': key } : {},
    });
  const auditRows = () =>
    db.selectFrom('audit_log').select(['action', 'outcome', 'status_code', 'resource_id']).execute();
  const leaseRows = () => db.selectFrom('leases').select('name').execute();
  return {
    app,
    post,
    auditRows,
    leaseRows,
    made: () => made,
    dispose: async () => (await app.close(), await database.dispose()),
  };
}

for (const dialect of testDialects()) {
  test(`idempotency and audit commit with the mutation (${dialect})`, async (t) => {
    const s = await setup(dialect);
    t.after(() => s.dispose());

    await t.test('a retry with the key gets the first answer; the handler ran once', async () => {
      const first = await s.post({ name: 'a' }, 'k-1');
      assert.equal(first.statusCode, 201);
      const again = await s.post({ name: 'a' }, 'k-1');
      assert.equal(again.statusCode, 201);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.deepEqual(again.json(), first.json());
      assert.equal(s.made(), 1);
    });

    await t.test('the same key with another body is refused with 422, nothing run', async () => {
      const reused = await s.post({ name: 'b' }, 'k-1');
      assert.equal(reused.statusCode, 422);
      assert.equal(reused.json().reason, 'idempotency_key_reused');
      assert.equal(s.made(), 1);
    });

    await t.test('a mutation refused in its transaction keeps no outcome: the retry runs again', async () => {
      const refused = await s.post({ name: 'c', fail: true }, 'k-2');
      assert.equal(refused.statusCode, 409);
      const retried = await s.post({ name: 'c', fail: true }, 'k-2');
      assert.equal(retried.statusCode, 409);
      assert.equal(retried.headers['idempotent-replayed'], undefined);
      assert.equal((await s.leaseRows()).length, 1, 'the refused writes rolled back');
    });

    await t.test('one audit entry per mutation: the success in its transaction, the refusals alone', async () => {
      const rows = await s.auditRows();
      const successes = rows.filter((r) => r.outcome === 'success');
      assert.equal(successes.length, 1, 'the replay is not a second entry');
      assert.deepEqual(
        { ...successes[0] },
        {
          action: 'POST /things',
          outcome: 'success',
          status_code: 201,
          resource_id: 'thing_1',
        },
      );
      const failures = rows.filter((r) => r.outcome === 'failure').map((r) => r.status_code);
      assert.deepEqual(failures.sort(), [409, 409, 422]);
    });
  });
}
