import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VmcError } from '../core/errors.ts';
import { buildUrl, codeOfStatus, createClient, errorFromResponse } from './client.ts';
import { startFakeApi } from './fake-api.ts';

const noHeaders = { get: () => null };

test('problem+json becomes a VmcError with code, reason, fields and extension members', () => {
  const error = errorFromResponse(
    409,
    { type: 'x', title: 'Conflict', status: 409, code: 'conflict', reason: 'quota_exceeded', detail: 'quota of 4 GPUs reached', request_id: 'req_1', errors: [{ field: 'product', message: 'needs 1 GPU' }], quota: 4 },
    noHeaders,
  );
  assert.equal(error.code, 'conflict');
  assert.equal(error.reason, 'quota_exceeded');
  assert.equal(error.message, 'quota of 4 GPUs reached');
  assert.deepEqual(error.fields, [{ field: 'product', message: 'needs 1 GPU' }]);
  assert.deepEqual(error.details, { status: 409, request_id: 'req_1', quota: 4 });
});

test('a non-problem error body maps by HTTP status', () => {
  const error = errorFromResponse(502, '<html>Bad Gateway</html>', noHeaders);
  assert.equal(error.code, 'unavailable');
  const cases: Array<[number, string]> = [
    [400, 'invalid'],
    [401, 'unauthenticated'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [409, 'conflict'],
    [412, 'precondition_failed'],
    [422, 'invalid'],
    [429, 'rate_limited'],
    [500, 'internal'],
    [503, 'unavailable'],
  ];
  for (const [status, code] of cases) assert.equal(codeOfStatus(status), code, String(status));
});

test('buildUrl drops empty query values', () => {
  assert.equal(buildUrl('http://h:1/', '/v1/servers', { name: 'web 1', cursor: undefined, limit: 5, region: '' }), 'http://h:1/v1/servers?name=web+1&limit=5');
});

test('every POST carries a fresh Idempotency-Key (a UUID) and the bearer token', async (t) => {
  const api = await startFakeApi();
  t.after(() => api.close());
  const client = createClient({ baseUrl: api.url, token: 'vmc_test_owner' });
  await client.post('/v1/servers', { name: 'a', product: 'vps-starter', region: 'fra1', image: 'debian-12' });
  await client.post('/v1/servers', { name: 'b', product: 'vps-starter', region: 'fra1', image: 'debian-12' });
  await client.get('/v1/regions');
  const posts = api.requests.filter((r) => r.method === 'POST');
  const keys = posts.map((r) => r.headers['idempotency-key']);
  assert.equal(keys.length, 2);
  for (const key of keys) assert.match(String(key), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(keys[0], keys[1]);
  assert.equal(api.requests.find((r) => r.method === 'GET')?.headers['idempotency-key'], undefined);
  assert.ok(api.requests.every((r) => r.headers.authorization === 'Bearer vmc_test_owner'));
});

test('a refused connection is unavailable and names the URL', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = createClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'vmc_x' });
  await assert.rejects(client.get('/v1/regions'), (error: unknown) => {
    assert.ok(error instanceof VmcError);
    assert.equal(error.code, 'unavailable');
    assert.match(error.message, new RegExp(`ECONNREFUSED.*is the control plane running at http://127\\.0\\.0\\.1:${port}\\?`));
    return true;
  });
});

test('no token is unauthenticated before any request; a bad URL is invalid', async () => {
  const client = createClient({ baseUrl: 'http://127.0.0.1:9', token: undefined });
  await assert.rejects(client.get('/v1/regions'), (e: unknown) => e instanceof VmcError && e.code === 'unauthenticated' && e.reason === 'no_token');
  assert.throws(() => createClient({ baseUrl: 'localhost:8080', token: 'vmc_x' }), (e: unknown) => e instanceof VmcError && e.code === 'invalid');
});
