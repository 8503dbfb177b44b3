/**
 * Findings 4 and 9 of the trust-boundaries issue: tokens of every kind (project, operator) expire and can
 * be revoked, effective at once in the process that revoked them; the last operator token stays; the CLI
 * manages them end to end. Before authentication, an address that keeps presenting unknown tokens is held
 * off (429 + Retry-After, no token lookup) while a token that just worked keeps working; a project holds
 * at most `maxTokensPerProject` live tokens.
 *
 * The control plane runs on a manual clock: expiry is reached by moving it, and the in-process token
 * cache (10 s) never expires on its own, so a revocation that did not drop the cached token would show.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createManualClock, VmcError } from '../src/core/index.ts';
import { createClient } from '../src/client/index.ts';
import {
  createOperatorToken,
  createToken,
  getProject,
  listOperatorTokens,
  listRegions,
  listTokens,
  revokeOperatorToken,
  revokeToken,
} from '../src/contract/index.ts';
import { maxTokensPerProject } from '../src/identity/index.ts';
import { runCli, saveProfile, type CliIo } from '../src/cli/index.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

const dayMs = 86_400_000;

/** The status of a call made with `token` (the typed client's error carries it). */
async function statusOf(promise: Promise<unknown>): Promise<{ status: number; reason?: string }> {
  try {
    await promise;
    return { status: 200 };
  } catch (error) {
    if (!(error instanceof VmcError)) throw error;
    return { status: Number(error.details?.status), reason: error.reason };
  }
}

for (const dialect of testDialects()) {
  describe(`tokens expire and are revoked at once (${dialect})`, () => {
    const clock = createManualClock(Date.now());
    let t: TestControlPlane;
    const as = (token: string) => createClient({ baseUrl: t.url, token });

    before(async () => {
      t = await startTestControlPlane(dialect, { clock });
    });
    after(async () => {
      await t?.dispose();
    });

    test('a project token with expires_in_days works until then and is refused after', async () => {
      const owner = as(t.secrets.projectToken);
      const created = await owner.call(createToken, { body: { name: 'ci', role: 'member', expires_in_days: 2 } });
      assert.equal(Date.parse(created.token.expires_at!), clock.nowMs() + 2 * dayMs);
      assert.equal((await as(created.secret).call(getProject)).project.role, 'member');

      clock.advanceMs(2 * dayMs - 1000);
      assert.equal((await as(created.secret).call(getProject)).project.role, 'member', 'still valid a second before');
      clock.advanceMs(1000);
      const refused = await statusOf(as(created.secret).call(getProject));
      assert.equal(refused.status, 401);
      assert.ok(
        !(await owner.call(listTokens)).tokens.some((token) => token.id === created.token.id),
        'an expired token is not listed as live',
      );
    });

    test('an operator token with expires_in_days is refused once expired', async () => {
      const operator = as(t.secrets.operatorToken);
      const created = await operator.call(createOperatorToken, { body: { name: 'grafana', expires_in_days: 1 } });
      assert.ok((await as(created.secret).call(listRegions)).regions.length > 0);
      clock.advanceMs(dayMs);
      assert.equal((await statusOf(as(created.secret).call(listOperatorTokens))).status, 401);
    });

    test('a revoked project token is refused at once by the process that revoked it', async () => {
      const owner = as(t.secrets.projectToken);
      const created = await owner.call(createToken, { body: { name: 'laptop', role: 'viewer' } });
      // Used once: the process now holds it as recently authenticated.
      assert.equal((await as(created.secret).call(getProject)).project.role, 'viewer');
      await owner.call(revokeToken, { params: { id: created.token.id } });
      assert.equal((await statusOf(as(created.secret).call(getProject))).status, 401);
      assert.equal((await t.call('GET', '/v1/project', { token: created.secret })).status, 401);
    });

    test('operator tokens: created, listed, revoked (refused at once); the last live one cannot be revoked', async () => {
      const root = as(t.secrets.operatorToken);
      const alice = await root.call(createOperatorToken, { body: { name: 'alice' } });
      const bob = await root.call(createOperatorToken, { body: { name: 'bob', expires_in_days: 30 } });
      const listed = await root.call(listOperatorTokens);
      for (const created of [alice, bob]) {
        const row = listed.tokens.find((token) => token.id === created.token.id);
        assert.ok(row, `${created.token.name} is listed`);
        assert.equal(row.name, created.token.name);
        assert.ok(!JSON.stringify(row).includes(created.secret), 'the secret is never listed');
      }
      assert.ok((await as(alice.secret).call(listOperatorTokens)).tokens.length >= 3);

      await as(bob.secret).call(revokeOperatorToken, { params: { id: alice.token.id } });
      assert.equal((await statusOf(as(alice.secret).call(listOperatorTokens))).status, 401);
      assert.ok(!(await root.call(listOperatorTokens)).tokens.some((token) => token.id === alice.token.id));

      await root.call(revokeOperatorToken, { params: { id: bob.token.id } });
      assert.equal((await statusOf(as(bob.secret).call(listOperatorTokens))).status, 401);

      const remaining = (await root.call(listOperatorTokens)).tokens;
      assert.equal(remaining.length, 1, JSON.stringify(remaining));
      const last = await statusOf(root.call(revokeOperatorToken, { params: { id: remaining[0].id } }));
      assert.deepEqual(last, { status: 409, reason: 'last_operator_token' });
      assert.ok((await root.call(listRegions)).regions.length > 0, 'the last operator token still works');
    });

    test('CLI: operator-token create|list|revoke with the operator profile, token revoke with the default one', async () => {
      const env = { VMCLOUD_CONFIG: join(t.dataDir, 'cli-config.json') };
      await saveProfile({ name: 'default', url: t.url, token: t.secrets.projectToken, makeCurrent: true }, env);
      await saveProfile({ name: 'operator', url: t.url, token: t.secrets.operatorToken }, env);
      const cli = async (...argv: string[]) => {
        let stdout = '';
        let stderr = '';
        const io: CliIo = {
          stdout: { write: (text: string) => (stdout += text) },
          stderr: { write: (text: string) => (stderr += text) },
          env,
          isTTY: false,
        };
        const code = await runCli(argv, io);
        return { code, stdout, stderr };
      };

      let result = await cli('--profile', 'operator', 'operator-token', 'create', '--name', 'dave', '-o', 'json');
      assert.equal(result.code, 0, result.stderr);
      const dave = JSON.parse(result.stdout) as { token: { id: string }; secret: string };
      assert.match(dave.secret, /^vmc_/);

      result = await cli('--profile', 'operator', 'operator-token', 'list');
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`\\n${dave.token.id} +dave `));
      assert.ok(!result.stdout.includes(dave.secret));

      result = await cli('--profile', 'operator', 'operator-token', 'revoke', dave.token.id);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `token ${dave.token.id} revoked\n`);
      assert.equal((await t.call('GET', '/v1/operator-tokens', { token: dave.secret })).status, 401);

      result = await cli('--profile', 'operator', 'operator-token', 'revoke', dave.token.id);
      assert.equal(result.code, 5, 'revoking it again: not found');

      result = await cli('token', 'create', '--name', 'deploy', '--role', 'member', '-o', 'json');
      assert.equal(result.code, 0, result.stderr);
      const deploy = JSON.parse(result.stdout) as { token: { id: string }; secret: string };
      assert.equal((await t.call('GET', '/v1/project', { token: deploy.secret })).status, 200);
      result = await cli('token', 'revoke', deploy.token.id);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await t.call('GET', '/v1/project', { token: deploy.secret })).status, 401);
    });

    test(`a project holds at most ${maxTokensPerProject} live tokens (409 token_limit)`, async () => {
      const owner = as(t.secrets.projectToken);
      const live = (await owner.call(listTokens)).tokens.length;
      const made: string[] = [];
      for (let i = live; i < maxTokensPerProject; i++) {
        made.push((await owner.call(createToken, { body: { name: `bulk-${i}`, role: 'viewer' } })).token.id);
      }
      assert.equal((await owner.call(listTokens)).tokens.length, maxTokensPerProject);
      const refused = await statusOf(owner.call(createToken, { body: { name: 'one-too-many', role: 'viewer' } }));
      assert.deepEqual(refused, { status: 409, reason: 'token_limit' });
      await owner.call(revokeToken, { params: { id: made[0] } });
      const again = await owner.call(createToken, { body: { name: 'after-a-revoke', role: 'viewer' } });
      assert.match(again.secret, /^vmc_/);
    });

    // Last of this suite: were both revocations of a round to pass, no operator token would be left.
    test('two operators revoking each other at once leave one live operator token', async () => {
      const liveOperatorTokens = () =>
        t.cp.db
          .selectFrom('tokens')
          .select('id')
          .where('kind', '=', 'operator')
          .where('revoked_at', 'is', null)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', clock.nowIso())]))
          .execute();
      let survivor = { id: (await liveOperatorTokens())[0].id, secret: t.secrets.operatorToken };
      for (let round = 0; round < 5; round++) {
        const made = await as(survivor.secret).call(createOperatorToken, { body: { name: `round-${round}` } });
        const other = { id: made.token.id, secret: made.secret };
        assert.equal((await liveOperatorTokens()).length, 2);
        // Both tokens used once: neither request waits on a token lookup, both reach the check together.
        await Promise.all([as(survivor.secret).call(listRegions), as(other.secret).call(listRegions)]);
        const results = await Promise.all([
          statusOf(as(other.secret).call(revokeOperatorToken, { params: { id: survivor.id } })),
          statusOf(as(survivor.secret).call(revokeOperatorToken, { params: { id: other.id } })),
        ]);
        const remaining = await liveOperatorTokens();
        assert.equal(remaining.length, 1, `round ${round}: the revocations answered ${JSON.stringify(results)}`);
        // One revocation passes; the other is refused as the last token's, or its token is already revoked.
        assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results));
        survivor = remaining[0].id === other.id ? other : survivor;
      }
    });
  });

  describe(`failed authentications are limited per address before any token lookup (${dialect})`, () => {
    const limit = 5;
    let t: TestControlPlane;
    let lookups = 0;

    before(async () => {
      t = await startTestControlPlane(dialect, { failedAuthPerMinute: limit });
      // Count the token lookups the API makes (the authentication plugin calls this very object).
      const identity = t.cp.services.identity;
      const authenticate = identity.authenticate.bind(identity);
      identity.authenticate = (secret: string) => {
        lookups++;
        return authenticate(secret);
      };
    });
    after(async () => {
      await t?.dispose();
    });

    test(`past ${limit} unknown tokens from one address: 429 + Retry-After without a lookup; a token that just worked keeps working`, async () => {
      assert.equal((await t.call('GET', '/v1/project')).status, 200, 'the owner token works');
      const unknown = () => `vmc_${'A'.repeat(36)}`;
      for (let i = 0; i < limit; i++) {
        const refused = await t.call('GET', '/v1/project', { token: unknown() });
        assert.equal(refused.status, 401, `attempt ${i + 1}`);
      }
      const lookupsBefore = lookups;
      for (let i = 0; i < 3; i++) {
        const held = await t.call('GET', '/v1/project', { token: unknown() });
        assert.equal(held.status, 429);
        assert.equal(held.body.reason, 'auth_rate_limited');
        assert.ok(Number(held.headers.get('retry-after')) > 0, 'Retry-After');
      }
      assert.equal(lookups, lookupsBefore, 'no token was looked up once the address was held off');

      assert.equal((await t.call('GET', '/v1/project')).status, 200, 'the token that just worked keeps working');
      // A token this process has not seen work is not looked up either from that address.
      const fresh = await createClient({ baseUrl: t.url, token: t.secrets.operatorToken })
        .call(listRegions)
        .then(
          () => 200,
          (error: VmcError) => Number(error.details?.status),
        );
      assert.equal(fresh, 429);
    });
  });
}
