import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { isForbiddenAddress } from './address-policy.ts';
import { matchesFilters, normalizeFilters } from './filters.ts';
import { defaultRetryScheduleMs, nextRetryDelayMs } from './retry.ts';
import { newSigningSecret, signingKeyOf, webhookHeaders } from './signing.ts';
import { urlProblem } from './safe-fetch.ts';

test('forbidden addresses: private, loopback, link-local, metadata, mapped forms', () => {
  const cases: Array<[string, boolean]> = [
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::a9fe:a9fe', true],
    ['2606:4700:4700::1111', false],
    ['not-an-ip', true],
  ];
  for (const [address, forbidden] of cases) assert.equal(isForbiddenAddress(address), forbidden, address);
});

test('event filters', () => {
  assert.ok(matchesFilters(['*'], 'server.created'));
  assert.ok(matchesFilters(['server.*'], 'server.created'));
  assert.ok(!matchesFilters(['server.*'], 'serverx.created'));
  assert.ok(!matchesFilters(['backup.succeeded'], 'backup.failed'));
  assert.ok(matchesFilters(['volume.*', 'backup.failed'], 'backup.failed'));
  assert.deepEqual(normalizeFilters(undefined), ['*']);
  assert.deepEqual(normalizeFilters(['server.*', '*']), ['*']);
  assert.deepEqual(normalizeFilters(['b.x', 'a.*', 'b.x']), ['a.*', 'b.x']);
});

test('retry schedule: about three days, jitter within ±20 %, then exhausted', () => {
  const totalH = defaultRetryScheduleMs.reduce((a, b) => a + b, 0) / 3_600_000;
  assert.ok(totalH > 60 && totalH < 80, `${totalH} h`);
  assert.equal(nextRetryDelayMs(1, defaultRetryScheduleMs, 0.5), 5000);
  assert.equal(nextRetryDelayMs(1, defaultRetryScheduleMs, 0), 4000);
  assert.ok(nextRetryDelayMs(2, defaultRetryScheduleMs, 0.999)! <= 360_000);
  assert.equal(nextRetryDelayMs(defaultRetryScheduleMs.length + 1, defaultRetryScheduleMs, 0.5), null);
});

test('signatures verify with the reference standardwebhooks package, one per secret in force', () => {
  const a = newSigningSecret();
  const b = newSigningSecret();
  const body = JSON.stringify({ type: 'server.created', timestamp: new Date().toISOString(), data: { x: 1 } });
  const headers = webhookHeaders([signingKeyOf(a), signingKeyOf(b)], 'msg_1', Math.floor(Date.now() / 1000), body);
  assert.deepEqual(new StandardWebhook(a).verify(body, headers), JSON.parse(body));
  assert.deepEqual(new StandardWebhook(b).verify(body, headers), JSON.parse(body));
  assert.throws(() => new StandardWebhook(newSigningSecret()).verify(body, headers));
  assert.throws(() => new StandardWebhook(a).verify(body + ' ', headers));
});

test('URLs a webhook may not have', () => {
  assert.match(urlProblem('http://example.com/x', false)!, /https/);
  assert.equal(urlProblem('https://example.com/x', false), null);
  assert.match(urlProblem('https://127.0.0.1/x', false)!, /private/);
  assert.match(urlProblem('https://[::1]/x', false)!, /private/);
  assert.match(urlProblem('https://169.254.169.254/latest', false)!, /private/);
  assert.match(urlProblem('https://localhost/x', false)!, /localhost/);
  assert.match(urlProblem('https://user:pw@example.com/x', false)!, /credentials/);
  assert.equal(urlProblem('http://127.0.0.1:8080/x', true), null);
});
