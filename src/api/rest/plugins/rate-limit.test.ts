/** The rate-limit plugin through app.inject(): headers on every answer, 429 with Retry-After past the limit, per token. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { sendProblem, toVmcError } from '../../../core/index.ts';
import { rateLimitPlugin } from './rate-limit.ts';
import '../context.ts';

test('per token: RateLimit headers, 429 + Retry-After past the limit, other tokens unaffected', async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, toVmcError(error)));
  // The authentication plugin's place in the chain, reduced to reading the token id from a header.
  await app.register(
    fp(
      async (instance) => {
        instance.decorateRequest('principal', null);
        instance.addHook('onRequest', async (request) => {
          const id = request.headers['x-token'];
          request.principal = id ? { kind: 'operator', tokenId: String(id), userId: null } : null;
        });
      },
      { name: 'vmcloud-authentication' },
    ),
  );
  await app.register(rateLimitPlugin, { limitPerMinute: 2, nowMs: () => 90_000 });
  app.get('/x', async () => ({ ok: true }));
  const call = (token: string) => app.inject({ url: '/x', headers: { 'x-token': token } });
  const first = await call('a');
  assert.equal(first.statusCode, 200);
  assert.equal(first.headers['ratelimit-limit'], '2');
  assert.equal(first.headers['ratelimit-remaining'], '1');
  assert.equal(first.headers['ratelimit-reset'], '120');
  assert.equal((await call('a')).statusCode, 200);
  const refused = await call('a');
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.headers['retry-after'], '30');
  assert.equal(refused.json().code, 'rate_limited');
  assert.equal((await call('b')).statusCode, 200, 'another token has its own window');
});
