/**
 * The chaos run, short: replicas of `vmcloud serve` killed with SIGKILL at random moments while clients
 * create, start, stop and delete servers with Idempotency-Keys and retries. Nothing a client was told
 * exists is lost, no key makes two servers, no host is oversold, and once the workload stops every server
 * reaches its desired state and every action ends. (`npm run chaos` runs the long version.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../src/db/test-helpers.ts';
import { runChaos } from '../bench/lib/chaos-run.ts';

for (const dialect of testDialects()) {
  const replicas = dialect === 'postgres' ? 3 : 1;
  test(`chaos: ${replicas} replica(s) killed 4 times lose, duplicate and oversell nothing (${dialect})`, async (t) => {
    const result = await runChaos({
      trials: 4,
      postgresUrl: dialect === 'postgres' ? process.env.TEST_DATABASE_URL : undefined,
      replicas,
      concurrency: 16,
      killEveryMs: [300, 1500],
      downMs: [100, 800],
      settleTimeoutMs: 120_000,
      deadlineMs: 240_000,
      simSpeed: 10,
    });
    t.diagnostic(JSON.stringify({ ...result, examples: undefined }));
    assert.equal(result.kills, 4);
    assert.ok(result.created > 0, 'the clients created servers');
    const { examples, ...counts } = result;
    assert.deepEqual(
      {
        lost: counts.lost,
        duplicated: counts.duplicated,
        oversold: counts.oversold,
        unconverged: counts.unconverged,
        stuck_actions: counts.stuck_actions,
      },
      { lost: 0, duplicated: 0, oversold: 0, unconverged: 0, stuck_actions: 0 },
      JSON.stringify({ counts, examples }, null, 2),
    );
  });
}
