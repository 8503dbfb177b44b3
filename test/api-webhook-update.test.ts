/**
 * `PATCH /v1/webhooks/{id}` on SQLite and PostgreSQL (what the console's webhook edit form calls): the URL,
 * the event filters and the description change; a URL is checked as at creation (a private address or a
 * non-https URL refused with `webhook_url_refused`, nothing written); malformed filters are refused by the
 * schema; the change is a `webhook.updated` event; a viewer is refused; another project sees no webhook.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until } from './helpers.ts';

for (const dialect of testDialects()) {
  test(`webhooks: URL and filters edited (${dialect})`, { timeout: 60_000 }, async (t) => {
    const cp = await startTestControlPlane(dialect);
    t.after(() => cp.dispose());

    const created = await cp.call('POST', '/v1/webhooks', {
      body: { url: 'https://hooks.example.com/a', events: ['backup.succeeded'], description: 'ops' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.webhook.id;
    const shown = async () => (await cp.call('GET', `/v1/webhooks/${id}`)).body.webhook;

    const patched = await cp.call('PATCH', `/v1/webhooks/${id}`, {
      body: { url: 'https://hooks.example.net/b', events: ['volume.deleted', 'backup.*', 'backup.*'] },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.webhook.url, 'https://hooks.example.net/b');
    assert.deepEqual(patched.body.webhook.events, ['backup.*', 'volume.deleted'], 'deduplicated and sorted');
    const after = await shown();
    assert.deepEqual(
      [after.url, after.events, after.description, after.enabled],
      ['https://hooks.example.net/b', ['backup.*', 'volume.deleted'], 'ops', true],
    );

    // The URL is checked as at creation: nothing is written when it is refused.
    for (const url of ['https://127.0.0.1/hook', 'https://localhost/hook', 'http://hooks.example.net/plain']) {
      const refused = await cp.call('PATCH', `/v1/webhooks/${id}`, { body: { url, events: ['*'] } });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body.reason, 'webhook_url_refused', url);
      const atCreate = await cp.call('POST', '/v1/webhooks', { body: { url } });
      assert.deepEqual([atCreate.status, atCreate.body.reason], [400, 'webhook_url_refused'], `create ${url}`);
    }
    const badFilter = await cp.call('PATCH', `/v1/webhooks/${id}`, { body: { events: ['Server!'] } });
    assert.equal(badFilter.status, 400);
    const noFilter = await cp.call('PATCH', `/v1/webhooks/${id}`, { body: { events: [] } });
    assert.equal(noFilter.status, 400);
    assert.deepEqual(await shown(), after, 'nothing changed');

    // `*` among the filters means every type.
    const every = await cp.call('PATCH', `/v1/webhooks/${id}`, { body: { events: ['server.*', '*'] } });
    assert.deepEqual(every.body.webhook.events, ['*']);

    // The change is an event of the stream (PostgreSQL shows it once older transactions have ended: poll).
    const events = await until('the webhook.updated events', async () => {
      const answer = await cp.call('GET', '/v1/events?type=webhook.updated');
      return answer.body.events.length >= 2 ? answer.body.events : null;
    });
    assert.ok(events.every((e: { resource: { id: string } }) => e.resource.id === id));
    assert.ok(events.some((e: { data: { url: string } }) => e.data.url === 'https://hooks.example.net/b'));

    // A viewer may not change it; another project does not see it.
    const viewer = await cp.call('POST', '/v1/tokens', { body: { name: 'viewer', role: 'viewer' } });
    assert.equal(viewer.status, 201, JSON.stringify(viewer.body));
    const byViewer = await cp.call('PATCH', `/v1/webhooks/${id}`, {
      token: viewer.body.secret,
      body: { url: 'https://hooks.example.org/c' },
    });
    assert.equal(byViewer.status, 403);
    const project = await cp.call('POST', '/v1/projects', {
      token: cp.secrets.operatorToken,
      body: { name: 'other', owner_email: 'other@example.com' },
    });
    assert.equal(project.status, 201, JSON.stringify(project.body));
    const other = await cp.call('PATCH', `/v1/webhooks/${id}`, {
      token: project.body.secret,
      body: { url: 'https://hooks.example.org/c' },
    });
    assert.equal(other.status, 404);
    assert.equal((await shown()).url, 'https://hooks.example.net/b');
  });
}
