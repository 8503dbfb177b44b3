/**
 * A GraphQL subscription over WebSocket checks its credential again at each tick (as the SSE stream does at
 * each heartbeat): once its token is revoked the socket closes with 4401 and the subscription ends, while a
 * subscription with a valid token goes on delivering.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startTestControlPlane, testDialects, until } from './helpers.ts';

interface Watched {
  events: string[];
  closed: { code: number; reason: string } | null;
  ended: 'completed' | 'failed' | null;
}

function subscribe(url: string, token: string, t: { after(fn: () => unknown): void }): Watched {
  const state: Watched = { events: [], closed: null, ended: null };
  const client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    shouldRetry: () => false,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        state.closed ??= { code, reason: String(reason) };
      },
    },
  });
  t.after(() => client.dispose());
  client.subscribe<{ projectEvents: { type: string; resource: { id: string } } }>(
    { query: 'subscription { projectEvents(types: ["server.created"]) { type resource { id } } }' },
    {
      next: (message) => {
        if (message.data) state.events.push(message.data.projectEvents.resource.id);
      },
      error: () => (state.ended = 'failed'),
      complete: () => (state.ended ??= 'completed'),
    },
  );
  return state;
}

for (const dialect of testDialects()) {
  test(
    `a GraphQL subscription whose token is revoked ends at the next check (${dialect})`,
    { timeout: 60_000 },
    async (t) => {
      const cp = await startTestControlPlane(dialect, { eventStreamHeartbeatMs: 200 });
      t.after(() => cp.dispose());
      const created = await cp.call('POST', '/v1/tokens', { body: { name: 'short-lived', role: 'viewer' } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const kept = subscribe(cp.url, cp.secrets.projectToken, t);
      const revoked = subscribe(cp.url, created.body.secret, t);

      // graphql-ws acknowledges no subscription: create servers until both subscriptions have seen one.
      const createServer = async (name: string) => {
        const server = await cp.call('POST', '/v1/servers', {
          body: { name, product: 'vps-nano', region: 'fra1', image: 'debian-12' },
        });
        assert.equal(server.status, 202, JSON.stringify(server.body));
        return server.body.server.id as string;
      };
      for (let i = 0; i < 20 && (kept.events.length === 0 || revoked.events.length === 0); i++) {
        const id = await createServer(`before-${i}`);
        await until(
          'both subscriptions see it',
          () => kept.events.includes(id) && revoked.events.includes(id),
          2_000,
        ).catch(() => null);
      }
      assert.ok(kept.events.length > 0 && revoked.events.length > 0, 'both subscriptions deliver');
      assert.equal(revoked.closed, null, 'a valid token keeps its subscription');

      const revoke = await cp.call('DELETE', `/v1/tokens/${created.body.token.id}`);
      assert.ok(revoke.status < 300, JSON.stringify(revoke.body));
      await until('the revoked token’s socket closes', () => revoked.closed !== null);
      assert.deepEqual(revoked.closed, { code: 4401, reason: 'the credential is no longer valid' });
      await until('its subscription ends', () => revoked.ended !== null);

      // The other subscription still delivers, and the revoked one got nothing more.
      const seenByRevoked = revoked.events.length;
      const after = await createServer('after-revoke');
      await until('the kept subscription sees the new server', () => kept.events.includes(after));
      assert.equal(kept.closed, null);
      assert.equal(revoked.events.length, seenByRevoked);
    },
  );
}
