import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane } from './helpers.ts';

test('rate limits: headers on every authenticated answer, 429 with Retry-After past the limit, per token', async () => {
  const t = await startTestControlPlane('sqlite', { rateLimitPerMinute: 3 });
  try {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await t.call('GET', '/v1/regions'));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 429],
    );
    assert.deepEqual(
      answers.map((a) => a.headers.get('ratelimit-remaining')),
      ['2', '1', '0', '0'],
    );
    assert.equal(answers[0].headers.get('ratelimit-limit'), '3');
    const resetEpochS = Number(answers[0].headers.get('ratelimit-reset'));
    assert.ok(
      resetEpochS > Date.now() / 1000 - 1 && resetEpochS <= Date.now() / 1000 + 61,
      'reset is a Unix time within the minute',
    );
    const limited = answers[3];
    assert.equal(limited.body.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const other = await t.call('GET', '/v1/regions', { token: t.secrets.operatorToken });
    assert.equal(other.status, 200, 'another token has its own budget');
    assert.equal((await t.call('GET', '/healthz', { token: null })).status, 200, 'health is not limited');
  } finally {
    await t.dispose();
  }
});
