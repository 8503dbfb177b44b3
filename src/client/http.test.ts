import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VmcError } from '../core/errors.ts';
import { buildUrl, codeOfStatus, createClient, errorFromResponse } from './http.ts';
import { createServer as createServerOp, getServer, listRegions, stopServer } from '../contract/index.ts';

interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A real HTTP server on loopback that records requests and answers `{}` (or what `answer` says). */
async function startRecorder(
  answer: (r: Recorded) => { status: number; body: string; type?: string } = () => ({ status: 200, body: '{}' }),
) {
  const requests: Recorded[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const recorded = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body };
      requests.push(recorded);
      const { status, body: out, type } = answer(recorded);
      response.writeHead(status, { 'content-type': type ?? 'application/json' }).end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const noHeaders = { get: () => null };

test('problem+json becomes a VmcError with code, reason, fields and extension members', () => {
  const error = errorFromResponse(
    409,
    {
      type: 'x',
      title: 'Conflict',
      status: 409,
      code: 'conflict',
      reason: 'quota_exceeded',
      detail: 'quota of 4 GPUs reached',
      request_id: 'req_1',
      errors: [{ field: 'product', message: 'needs 1 GPU' }],
      quota: 4,
    },
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
  assert.equal(
    buildUrl('http://h:1/', '/v1/servers', { name: 'web 1', cursor: undefined, limit: 5, region: '' }),
    'http://h:1/v1/servers?name=web+1&limit=5',
  );
});

test('every POST carries a fresh Idempotency-Key (a UUID) and the bearer token', async (t) => {
  const api = await startRecorder();
  t.after(() => api.close());
  const client = createClient({ baseUrl: api.url, token: 'vmc_test_owner' });
  await client.call(createServerOp, {
    body: { name: 'a', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
  });
  await client.call(createServerOp, {
    body: { name: 'b', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
  });
  await client.call(listRegions);
  const posts = api.requests.filter((r) => r.method === 'POST');
  const keys = posts.map((r) => r.headers['idempotency-key']);
  assert.equal(keys.length, 2);
  for (const key of keys)
    assert.match(String(key), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
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
  await assert.rejects(client.call(listRegions), (error: unknown) => {
    assert.ok(error instanceof VmcError);
    assert.equal(error.code, 'unavailable');
    assert.match(
      error.message,
      new RegExp(`ECONNREFUSED.*is the control plane running at http://127\\.0\\.0\\.1:${port}\\?`),
    );
    return true;
  });
});

test('no token is unauthenticated before any request; a bad URL is invalid', async () => {
  const client = createClient({ baseUrl: 'http://127.0.0.1:9', token: undefined });
  await assert.rejects(
    client.call(listRegions),
    (e: unknown) => e instanceof VmcError && e.code === 'unauthenticated' && e.reason === 'no_token',
  );
  assert.throws(
    () => createClient({ baseUrl: 'localhost:8080', token: 'vmc_x' }),
    (e: unknown) => e instanceof VmcError && e.code === 'invalid',
  );
});

test('call fills path parameters (encoded), sends the body as JSON and returns the typed answer', async (t) => {
  const api = await startRecorder((r) =>
    r.method === 'GET'
      ? { status: 200, body: JSON.stringify({ server: { id: 'srv_1', name: 'web' } }) }
      : { status: 202, body: '{"action":{"id":"act_1"}}' },
  );
  t.after(() => api.close());
  const client = createClient({ baseUrl: api.url, token: 'vmc_x' });
  const shown = await client.call(getServer, { params: { id: 'srv/1 x' } });
  assert.equal(shown.server.id, 'srv_1');
  assert.equal(api.requests[0].url, '/v1/servers/srv%2F1%20x');
  const stopped = await client.call(stopServer, {
    params: { id: 'srv_1' },
    body: { force: true },
    idempotencyKey: 'k-1',
  });
  assert.equal(stopped.action.id, 'act_1');
  assert.equal(api.requests[1].url, '/v1/servers/srv_1/actions/stop');
  assert.deepEqual(JSON.parse(api.requests[1].body), { force: true });
  assert.equal(api.requests[1].headers['idempotency-key'], 'k-1');
});

test('a problem answer of a call becomes the VmcError of its code', async (t) => {
  const api = await startRecorder(() => ({
    status: 404,
    type: 'application/problem+json',
    body: JSON.stringify({
      type: 't',
      title: 'Not found',
      status: 404,
      detail: 'server srv_9 was not found',
      code: 'not_found',
      request_id: 'req_1',
    }),
  }));
  t.after(() => api.close());
  const client = createClient({ baseUrl: api.url, token: 'vmc_x' });
  await assert.rejects(
    client.call(getServer, { params: { id: 'srv_9' } }),
    (e: unknown) => e instanceof VmcError && e.code === 'not_found' && /srv_9/.test(e.message),
  );
});
