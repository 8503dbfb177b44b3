/**
 * Addresses bill from the event stream: a floating IPv4 and a primary IPv4 from their creation to their
 * deletion (assigned or not), at their hourly price capped per month; an IPv6 /64 is free. The traffic plan
 * of the billing account (volume or 95th percentile) is set and validated like its other settings.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createManualClock } from '../src/core/index.ts';
import { testDialects } from '../src/db/test-helpers.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

interface Line {
  item: string;
  resource_id: string;
  hours: number;
  amount_cents: number;
}

for (const dialect of testDialects()) {
  describe(`billing: addresses (${dialect})`, () => {
    const clock = createManualClock(Date.UTC(2026, 2, 1, 0, 0, 0));
    let t: TestControlPlane;
    before(async () => {
      t = await startTestControlPlane(dialect, { clock, hostDownAfterMs: 365 * 86_400_000, loopIntervalMs: 3_600_000 });
    });
    after(async () => {
      await t?.dispose();
    });

    test('a floating IPv4 and a primary IPv4 bill by the hour until deleted; an IPv6 /64 does not', async () => {
      const floating = await t.call('POST', '/v1/floating-ips', { body: { region: 'par1', name: 'vip' } });
      assert.equal(floating.status, 201, JSON.stringify(floating.body));
      const floatingId = floating.body.floating_ip.id;
      const primary = await t.call('POST', '/v1/primary-ips', { body: { name: 'v4', region: 'par1', type: 'ipv4' } });
      assert.equal(primary.status, 201, JSON.stringify(primary.body));
      const primaryId = primary.body.primary_ip.id;
      const v6 = await t.call('POST', '/v1/primary-ips', { body: { name: 'v6', region: 'par1', type: 'ipv6' } });
      assert.equal(v6.status, 201, JSON.stringify(v6.body));
      const v6Id = v6.body.primary_ip.id;

      clock.advanceMs(10 * 3600_000);
      const lines = async () => (await t.call('GET', '/v1/usage')).body.so_far.lines as Line[];
      await until('addresses metered', async () => ((await lines()).length >= 2 ? true : undefined));
      const byResource = new Map((await lines()).map((l) => [l.resource_id, l]));
      assert.equal(byResource.get(floatingId)?.item, 'floating_ipv4');
      assert.equal(byResource.get(floatingId)?.hours, 10);
      assert.equal(byResource.get(primaryId)?.item, 'ipv4');
      assert.equal(byResource.get(primaryId)?.hours, 10);
      assert.equal(byResource.has(v6Id), false, 'an IPv6 /64 is free');

      // Deleted: the interval closes; ten more hours later it still counts ten.
      assert.equal((await t.call('DELETE', `/v1/floating-ips/${floatingId}`)).status, 204);
      await until('the deletion metered', async () => {
        clock.advanceMs(0);
        const events = (await t.call('GET', '/v1/events?type=floating_ip.deleted')).body.events;
        return events.length > 0 ? true : undefined;
      });
      clock.advanceMs(10 * 3600_000);
      await until('the primary IPv4 at 20 h, the floating one stopped at 10 h', async () => {
        const now = new Map((await lines()).map((l) => [l.resource_id, l]));
        return now.get(primaryId)?.hours === 20 && now.get(floatingId)?.hours === 10 ? true : undefined;
      });
    });

    test('the traffic plan: volume by default, percentile95 when chosen; anything else 400, nothing changed', async () => {
      const details = { name: 'ACME SAS', address: '1 rue X\nParis', country: 'FR' };
      let put = await t.call('PUT', '/v1/billing/account', { body: details });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.account.traffic_billing, 'volume');
      put = await t.call('PUT', '/v1/billing/account', { body: { ...details, traffic_billing: 'percentile95' } });
      assert.equal(put.body.account.traffic_billing, 'percentile95');
      // Omitted: kept.
      put = await t.call('PUT', '/v1/billing/account', { body: { ...details, name: 'ACME' } });
      assert.equal(put.body.account.traffic_billing, 'percentile95');
      const bad = await t.call('PUT', '/v1/billing/account', { body: { ...details, traffic_billing: 'p99' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid');
      const after = (await t.call('GET', '/v1/billing/account')).body.account;
      assert.deepEqual([after.name, after.traffic_billing], ['ACME', 'percentile95']);
    });

    test('applied-event ids older than 62 days are pruned by the billing loop, once', async () => {
      clock.advanceMs(70 * 86_400_000);
      const first = await t.cp.billingLoopOnce();
      assert.ok(first && first.prunedEventIds >= 4, JSON.stringify(first));
      assert.equal((await t.cp.billingLoopOnce())?.prunedEventIds, 0);
    });
  });
}
