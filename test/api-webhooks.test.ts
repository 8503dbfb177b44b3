/**
 * Webhooks end to end on SQLite and PostgreSQL: a real receiver verifies every delivery with the reference
 * `standardwebhooks` package; deliveries follow a server's lifecycle in order; failures are retried with
 * the same webhook-id; rotation signs with both secrets during the overlap; replay, test deliveries, and an
 * endpoint disabled after failing (with its event).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startTestControlPlane, testDialects, until } from './helpers.ts';
import { startWebhookReceiver, type ReceivedRequest } from './webhook-receiver.ts';

const verify = (secret: string, request: ReceivedRequest) =>
  new StandardWebhook(secret).verify(request.body, {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  }) as { type: string; timestamp: string; data: Record<string, unknown> };

for (const dialect of testDialects()) {
  test(
    `webhooks: signed, ordered, retried, rotated, replayed, disabled (${dialect})`,
    { timeout: 120_000 },
    async (t) => {
      // The first two attempts of every server.started delivery fail: it arrives at the third.
      const receiver = await startWebhookReceiver({
        respond: ({ attempt, body }) => (body.includes('"server.started"') && attempt <= 2 ? 503 : 200),
      });
      const cp = await startTestControlPlane(dialect, {
        webhookAllowPrivate: true,
        webhooks: { retryScheduleMs: [50, 50, 50, 50], pollIntervalMs: 50 },
      });
      t.after(async () => {
        await cp.dispose();
        await receiver.close();
      });

      // Registration: the secret once, never again.
      const created = await cp.call('POST', '/v1/webhooks', {
        body: { url: receiver.url, events: ['server.*', 'webhook.test'], description: 'ops' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const secret: string = created.body.secret;
      assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      const hook = created.body.webhook;
      assert.deepEqual(hook.events, ['server.*', 'webhook.test']);
      const shown = await cp.call('GET', `/v1/webhooks/${hook.id}`);
      assert.equal(shown.status, 200);
      assert.ok(!JSON.stringify(shown.body).includes(secret.slice(6)), 'the secret is shown once');

      // Bad input: refused with a stable code, nothing written.
      const bad = await cp.call('POST', '/v1/webhooks', { body: { url: 'ftp://example.com/x' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid');
      const badFilter = await cp.call('POST', '/v1/webhooks', { body: { url: receiver.url, events: ['Server!'] } });
      assert.equal(badFilter.status, 400);
      assert.equal((await cp.call('GET', '/v1/webhooks')).body.webhooks.length, 1);

      // A server's lifecycle: created → started (after two failed attempts) → stopping → stopped, in order.
      const server = await cp.call('POST', '/v1/servers', {
        body: { name: 'hooked', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
      });
      assert.equal(server.status, 202);
      const serverId: string = server.body.server.id;
      assert.equal((await cp.waitForAction(server.body.action.id)).status, 'success');
      const stop = await cp.call('POST', `/v1/servers/${serverId}/actions/stop`, { body: {} });
      assert.equal((await cp.waitForAction(stop.body.action.id)).status, 'success');
      const ofServer = () =>
        receiver.requests.filter((r) => r.status === 200 && r.body.includes(serverId)).map((r) => verify(secret, r));
      await until('the server events delivered', () => ofServer().some((m) => m.type === 'server.stopped'));
      const types = ofServer().map((m) => m.type);
      assert.deepEqual(
        types,
        ['server.created', 'server.starting', 'server.started', 'server.stopping', 'server.stopped'].filter((x) =>
          types.includes(x),
        ),
      );
      assert.ok(types.indexOf('server.created') < types.indexOf('server.started'));
      assert.ok(types.indexOf('server.started') < types.indexOf('server.stopped'));
      const started = receiver.requests.filter((r) => r.body.includes('"server.started"') && r.body.includes(serverId));
      assert.deepEqual(
        started.map((r) => r.status),
        [503, 503, 200],
      );
      assert.equal(new Set(started.map((r) => r.id)).size, 1, 'every attempt carries the same webhook-id');
      const body = verify(secret, started[2]);
      assert.equal((body.data.resource as { id: string }).id, serverId);
      assert.equal(typeof body.data.event_id, 'string');
      // Events outside the filters (action.finished) are not delivered.
      assert.ok(!receiver.requests.some((r) => r.body.includes('"action.finished"')));

      // Deliveries and their attempts.
      const deliveries = await cp.call('GET', `/v1/webhooks/${hook.id}/deliveries`);
      assert.equal(deliveries.status, 200);
      const startedDelivery = deliveries.body.deliveries.find(
        (d: { event_type: string; resource: { id: string } }) =>
          d.event_type === 'server.started' && d.resource.id === serverId,
      );
      assert.equal(startedDelivery.status, 'succeeded');
      assert.deepEqual(
        startedDelivery.attempt_log.map((a: { status_code: number }) => a.status_code),
        [503, 503, 200],
      );

      // Manual retry: the same webhook-id again.
      const before = receiver.delivered.get(startedDelivery.id) ?? 0;
      const retried = await cp.call('POST', `/v1/webhooks/${hook.id}/deliveries/${startedDelivery.id}/retry`, {
        body: {},
      });
      assert.equal(retried.status, 202);
      await until('retried', () => (receiver.delivered.get(startedDelivery.id) ?? 0) > before);

      // Test delivery.
      const tested = await cp.call('POST', `/v1/webhooks/${hook.id}/test`, { body: {} });
      assert.equal(tested.status, 202);
      await until('test delivered', () => receiver.delivered.has(tested.body.delivery.id));
      const testMessage = verify(
        secret,
        receiver.requests.find((r) => r.id === tested.body.delivery.id)!,
      );
      assert.equal(testMessage.type, 'webhook.test');

      // Rotation with overlap: both secrets verify; without overlap only the new one.
      const rotated = await cp.call('POST', `/v1/webhooks/${hook.id}/actions/rotate-secret`, { body: {} });
      assert.equal(rotated.status, 200);
      const newSecret: string = rotated.body.secret;
      assert.notEqual(newSecret, secret);
      assert.ok(rotated.body.webhook.previous_secret_expires_at);
      const overlap = await cp.call('POST', `/v1/webhooks/${hook.id}/test`, { body: {} });
      await until('overlap test delivered', () => receiver.delivered.has(overlap.body.delivery.id));
      const overlapRequest = receiver.requests.find((r) => r.id === overlap.body.delivery.id && r.status === 200)!;
      assert.equal(String(overlapRequest.headers['webhook-signature']).split(' ').length, 2);
      verify(secret, overlapRequest);
      verify(newSecret, overlapRequest);
      const hard = await cp.call('POST', `/v1/webhooks/${hook.id}/actions/rotate-secret`, {
        body: { overlap_seconds: 0 },
      });
      const latest: string = hard.body.secret;
      const after = await cp.call('POST', `/v1/webhooks/${hook.id}/test`, { body: {} });
      await until('post-rotation test delivered', () => receiver.delivered.has(after.body.delivery.id));
      const afterRequest = receiver.requests.find((r) => r.id === after.body.delivery.id && r.status === 200)!;
      verify(latest, afterRequest);
      assert.throws(() => verify(newSecret, afterRequest), /signature/i);
      assert.throws(() => verify(secret, afterRequest), /signature/i);

      // Replay: the matching events of the last hour again, with new webhook-ids.
      const replay = await cp.call('POST', `/v1/webhooks/${hook.id}/replay`, {
        body: { since: new Date(Date.now() - 3_600_000).toISOString() },
      });
      assert.equal(replay.status, 202, JSON.stringify(replay.body));
      assert.ok(replay.body.queued >= types.length, JSON.stringify(replay.body));
      await until(
        'replayed',
        () =>
          receiver.requests.filter(
            (r) => r.status === 200 && r.body.includes('"server.stopped"') && r.body.includes(serverId),
          ).length >= 2,
      );

      // An endpoint failing for longer than allowed is disabled, with an event.
      const dead = await startWebhookReceiver({ respond: () => 500 });
      t.after(() => dead.close());
      const failing = await cp.call('POST', '/v1/webhooks', { body: { url: dead.url } });
      const failingId: string = failing.body.webhook.id;
      await cp.call('POST', `/v1/webhooks/${failingId}/test`, { body: {} });
      await until(
        'failing recorded',
        async () => (await cp.call('GET', `/v1/webhooks/${failingId}`)).body.webhook.failing_since,
      );
      const maintained = await cp.cp.services.webhookWorker.maintain({ disableAfterMs: 0 });
      assert.equal(maintained.disabled, 1);
      const disabled = (await cp.call('GET', `/v1/webhooks/${failingId}`)).body.webhook;
      assert.equal(disabled.enabled, false);
      assert.equal(disabled.disabled_reason, 'failing');
      // On PostgreSQL the stream shows an event once every older transaction has ended: poll.
      const events = await until('the webhook.disabled event', async () => {
        const answer = await cp.call('GET', '/v1/events?type=webhook.disabled');
        return answer.body.events.length > 0 ? answer : null;
      });
      assert.equal(events.body.events.length, 1);
      assert.equal(events.body.events[0].resource.id, failingId);

      // Delete: gone, and another project's token sees nothing of it.
      assert.equal((await cp.call('DELETE', `/v1/webhooks/${failingId}`)).status, 204);
      assert.equal((await cp.call('GET', `/v1/webhooks/${failingId}`)).status, 404);
    },
  );
}
