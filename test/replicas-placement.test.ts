/**
 * Two control planes (replicas) in one process on one PostgreSQL schema race for the same scarce GPUs
 * through real HTTP: neither knows the other's claims in memory; the generation guard in the database keeps
 * the placements exact. PostgreSQL only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';

const url = process.env.TEST_DATABASE_URL;

test(
  'two replicas racing for the same GPUs through HTTP never over-allocate them',
  {
    skip: !url && 'needs TEST_DATABASE_URL',
  },
  async (ctx) => {
    const a = await startTestControlPlane('postgres');
    let b: TestControlPlane | null = null;
    try {
      // The second replica: same schema, same key-encryption keys (it must read the CA's sealed key).
      b = await startTestControlPlane('postgres', {
        pgSchema: a.cp.handle.pgSchema,
        keyStore: { kind: 'file', directory: join(a.dataDir, 'keys') },
      });
      const owner = a.secrets.projectToken;
      const operator = a.secrets.operatorToken;
      const raised = await a.call('PATCH', `/v1/projects/${a.secrets.projectId}/quotas`, {
        token: operator,
        body: { servers: 1000, vcpus: 10_000, gpus: 1000 },
      });
      assert.equal(raised.status, 200, JSON.stringify(raised.body));

      // par1 has one A100 host: both replicas ask for more A100 servers than it holds, at once.
      const create = (t: TestControlPlane, i: number) =>
        t.call('POST', '/v1/servers', {
          token: owner,
          body: { name: `a100-${i}`, product: 'gpu-a100', region: 'par1', image: 'ubuntu-24.04' },
        });
      const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => create(i % 2 ? b! : a, i)));
      const statuses = answers.map((r) => (r.status === 202 ? 202 : `${r.status} ${r.body?.reason}`));
      const accepted = answers.filter((r) => r.status === 202).length;
      assert.ok(accepted > 0 && accepted <= 8, `one host of 8 A100s: ${JSON.stringify(statuses)}`);
      assert.deepEqual(
        statuses.filter((s) => s !== 202 && s !== '409 no_capacity'),
        [],
        'every refusal is no_capacity',
      );
      for (const t of [a, b]) assert.equal((await create(t, 100 + accepted)).body.reason, 'no_capacity');
      ctx.diagnostic(`accepted ${accepted} of 24`);
      const report = await a.cp.services.scheduler.auditPlacement();
      assert.deepEqual(report.violations, [], 'no GPU, thread or memory claimed twice');
    } finally {
      await b?.cp.close();
      await a.dispose();
    }
  },
);
