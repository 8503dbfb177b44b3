/**
 * Findings 6 and 7 of the trust-boundaries issue: races and lost answers.
 * - If-Match: many concurrent PATCHes with the same ETag → exactly one wins (200), the rest get 412, and
 *   the name stored is the winner's (the version check is in the UPDATE's WHERE).
 * - Idempotency-Key: a client that never gets the answer of a committed create retries with the same key
 *   and gets the same server back (`Idempotent-Replayed: true`), exactly one server exists; concurrent
 *   duplicates create one server and all get its answer; the same key with another body is refused (422).
 *
 * "Never gets the answer" is made two ways: the client drops the connection once the answer's headers
 * arrive, and — the case of a process that dies between commit and answer — a hook added for the test
 * destroys the connection after the handler committed and before anything is sent.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { createClient } from '../src/client/index.ts';
import { createServer, getServer, listServers } from '../src/contract/index.ts';
import { startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

/** Keys whose first request the control plane "dies" on after committing (see `beforeListen` below). */
const crashOnceKeys = new Set<string>();

/** A POST whose answer never reaches the caller: resolves once the connection is gone. */
function postAndHangUp(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: unknown,
  hangUp: 'on-headers' | 'server-cuts',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest(url + path, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    req.on('response', (response) => {
      if (hangUp === 'server-cuts') {
        reject(new Error(`expected no answer, got ${response.statusCode}`));
        return;
      }
      req.destroy();
      resolve();
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (hangUp === 'server-cuts' && (error.code === 'ECONNRESET' || /socket hang up/.test(error.message))) resolve();
      else if (hangUp === 'on-headers' && error.code === 'ECONNRESET') resolve();
      else reject(error);
    });
    req.end(payload);
  });
}

for (const dialect of testDialects()) {
  describe(`concurrent and retried requests (${dialect})`, () => {
    let t: TestControlPlane;
    const owner = () => createClient({ baseUrl: t.url, token: t.secrets.projectToken });
    const serverBody = (name: string) => ({ name, product: 'vps-nano', region: 'fra1', image: 'debian-12' });
    const serversNamed = async (name: string) =>
      (await owner().call(listServers, { query: { limit: '500' } })).servers.filter((s) => s.name === name);

    before(async () => {
      t = await startTestControlPlane(dialect, {}, (cp) => {
        // The process "dies" after the create committed and before the answer: the connection is cut,
        // nothing is sent, nothing after the handler runs for this request.
        cp.api.addHook('preSerialization', async (request: FastifyRequest) => {
          const key = request.headers['idempotency-key'];
          if (typeof key !== 'string' || !crashOnceKeys.delete(key)) return;
          request.raw.socket.destroy();
          await new Promise(() => {}); // never continues
        });
      });
    });
    after(async () => {
      await t?.dispose();
    });

    test('If-Match: of many concurrent PATCHes with one ETag exactly one wins, the rest get 412', async () => {
      const { server } = await owner().call(createServer, { body: serverBody('if-match-0') });
      for (let round = 0; round < 5; round++) {
        const shown = await t.call('GET', `/v1/servers/${server.id}`);
        const etag = shown.headers.get('etag')!;
        assert.match(etag, /^"v\d+"$/);
        const names = Array.from({ length: 8 }, (_, i) => `if-match-${round + 1}-${i}`);
        const answers = await Promise.all(
          names.map((name) =>
            t.call('PATCH', `/v1/servers/${server.id}`, { body: { name }, headers: { 'if-match': etag } }),
          ),
        );
        const statuses = answers.map((a) => a.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, `round ${round}: ${statuses.join(' ')}`);
        assert.equal(statuses.filter((s) => s === 412).length, names.length - 1, statuses.join(' '));
        const winner = names[statuses.indexOf(200)];
        const stored = (await owner().call(getServer, { params: { id: server.id } })).server;
        assert.equal(stored.name, winner, `round ${round}`);
        assert.equal(answers[statuses.indexOf(200)].body.server.name, winner);
      }
    });

    for (const hangUp of ['on-headers', 'server-cuts'] as const) {
      test(`Idempotency-Key: a client that never got the answer (${hangUp}) retries and gets the same server`, async () => {
        const key = `lost-answer-${hangUp}`;
        const name = `idem-${hangUp}`;
        if (hangUp === 'server-cuts') crashOnceKeys.add(key);
        await postAndHangUp(
          t.url,
          '/v1/servers',
          { authorization: `Bearer ${t.secrets.projectToken}`, 'idempotency-key': key },
          serverBody(name),
          hangUp,
        );
        // The create committed although nobody heard of it.
        const created = await until(`${name} to exist`, async () => (await serversNamed(name))[0]);

        const retry = await t.call('POST', '/v1/servers', {
          body: serverBody(name),
          headers: { 'idempotency-key': key },
        });
        assert.equal(retry.status, 202, JSON.stringify(retry.body));
        assert.equal(retry.headers.get('idempotent-replayed'), 'true');
        assert.equal(retry.body.server.id, created.id);
        assert.equal((await serversNamed(name)).length, 1, 'exactly one server');
      });
    }

    test('Idempotency-Key: concurrent duplicates create one server and all get its answer', async () => {
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.call('POST', '/v1/servers', { body: serverBody('idem-concurrent'), headers: { 'idempotency-key': 'dup' } }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      assert.deepEqual(
        statuses,
        answers.map(() => 202),
        JSON.stringify(answers.map((a) => a.body)),
      );
      const ids = new Set(answers.map((a) => a.body.server.id));
      assert.equal(ids.size, 1, [...ids].join(' '));
      assert.equal(
        answers.filter((a) => a.headers.get('idempotent-replayed') !== 'true').length,
        1,
        'one request ran, the others were replayed',
      );
      assert.equal((await serversNamed('idem-concurrent')).length, 1);
    });

    test('Idempotency-Key: the same key with another body is refused (422), nothing is created', async () => {
      const first = await t.call('POST', '/v1/servers', {
        body: serverBody('idem-body-a'),
        headers: { 'idempotency-key': 'body-key' },
      });
      assert.equal(first.status, 202);
      const other = await t.call('POST', '/v1/servers', {
        body: serverBody('idem-body-b'),
        headers: { 'idempotency-key': 'body-key' },
      });
      assert.equal(other.status, 422, JSON.stringify(other.body));
      assert.equal(other.body.reason, 'idempotency_key_reused');
      assert.equal((await serversNamed('idem-body-b')).length, 0);
    });
  });
}
