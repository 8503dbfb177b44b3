/** The authentication plugin through app.inject(): kinds of principal per operation, 401/403, and the failed-auth budget. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { VmcError, sendProblem, toVmcError } from '../../../core/index.ts';
import { defineOperation } from '../../../contract/index.ts';
import type { IdentityService, Principal } from '../../../identity/index.ts';
import { authenticationPlugin } from './authentication.ts';
import '../context.ts';

const principals: Record<string, Principal> = {
  vmc_project: { kind: 'project', tokenId: 'tok_p', userId: null, projectId: 'prj_1', role: 'viewer' },
  vmc_operator: { kind: 'operator', tokenId: 'tok_o', userId: null },
};

function fakeIdentity(lookups: string[]): IdentityService {
  return {
    async authenticate(secret: string) {
      lookups.push(secret);
      const found = principals[secret];
      if (!found) throw new VmcError('unauthenticated', 'the token is unknown or revoked');
      return found;
    },
    isRecentlyAuthenticated: (secret: string) => secret in principals,
  } as unknown as IdentityService;
}

async function appWith(options: { failedAuthPerMinute: number; nowMs?: () => number }) {
  const lookups: string[] = [];
  const failures: string[] = [];
  const app = Fastify();
  app.setErrorHandler((error, request, reply) => sendProblem(reply, request, toVmcError(error)));
  await app.register(authenticationPlugin, {
    identity: fakeIdentity(lookups),
    nowMs: options.nowMs ?? (() => 60_000),
    failedAuthPerMinute: options.failedAuthPerMinute,
    onAuthenticationFailed: (request) => failures.push(request.ip),
  });
  for (const auth of ['project', 'operator', 'any'] as const) {
    const operation = defineOperation({
      operationId: auth,
      method: 'GET',
      path: `/${auth}`,
      tags: [],
      summary: auth,
      auth,
      status: 200,
    });
    app.get(`/${auth}`, { config: { operation } }, async (request) => ({ kind: request.principal?.kind ?? null }));
  }
  app.get('/open', { config: { auth: 'public' } }, async (request) => ({ kind: request.principal?.kind ?? null }));
  return { app, lookups, failures };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

test('each operation admits its kind of principal: 401 without a token, 403 for another kind', async (t) => {
  const { app } = await appWith({ failedAuthPerMinute: 0 });
  t.after(() => app.close());
  const cases: Array<[string, Record<string, string>, number, string | null]> = [
    ['/project', bearer('vmc_project'), 200, 'project'],
    ['/project', bearer('vmc_operator'), 403, null],
    ['/project', {}, 401, null],
    ['/operator', bearer('vmc_operator'), 200, 'operator'],
    ['/operator', bearer('vmc_project'), 403, null],
    ['/any', bearer('vmc_project'), 200, 'project'],
    ['/any', bearer('vmc_unknown'), 401, null],
    ['/open', {}, 200, null],
    ['/project', { authorization: 'Basic abc' }, 401, null],
  ];
  for (const [url, headers, status, kind] of cases) {
    await t.test(`${url} with ${JSON.stringify(headers)} → ${status}`, async () => {
      const answer = await app.inject({ method: 'GET', url, headers });
      assert.equal(answer.statusCode, status, answer.body);
      if (status === 200) assert.equal(answer.json().kind, kind);
      else assert.equal(answer.json().code, status === 401 ? 'unauthenticated' : 'forbidden');
    });
  }
});

test('past its budget of failures an address gets 429 before any lookup; a token that just worked still passes', async (t) => {
  const { app, lookups, failures } = await appWith({ failedAuthPerMinute: 3 });
  t.after(() => app.close());
  for (let i = 0; i < 3; i++)
    assert.equal((await app.inject({ url: '/any', headers: bearer(`vmc_bad${i}`) })).statusCode, 401);
  assert.equal(failures.length, 3, 'each refusal is reported (to the audit log)');
  const before = lookups.length;
  const blocked = await app.inject({ url: '/any', headers: bearer('vmc_bad9') });
  assert.equal(blocked.statusCode, 429);
  assert.equal(blocked.json().reason, 'auth_rate_limited');
  assert.ok(Number(blocked.headers['retry-after']) > 0);
  assert.equal(lookups.length, before, 'no lookup past the budget');
  assert.equal((await app.inject({ url: '/any', headers: bearer('vmc_project') })).statusCode, 200);
});
