/** `vmcloud operator-user link|unlink|list|reset-totp` against the real control plane. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, type TestControlPlane, runCliAgainst } from './helpers.ts';
import { base32Decode, totpAt } from '../src/identity/index.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud operator-user (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[], token = t.secrets.operatorToken) => runCliAgainst(t, argv, { token: token });
    before(async () => {
      t = await startTestControlPlane(dialect, { passwordHashCost: { ln: 10, r: 8, p: 1 } });
    });
    after(async () => {
      await t?.dispose();
    });

    test('link, list, unlink; an unknown email and a project token exit non-zero', async () => {
      let r = await cli(['operator-user', 'link', 'Owner@VMCloud.local']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /owner@vmcloud\.local\) is an operator \(no TOTP yet/);
      r = await cli(['operator-user', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /owner@vmcloud\.local\s+owner@vmcloud\.local\s+off/);
      assert.match(r.stdout, /operator@vmcloud\.local/, 'the first operator is one already');
      r = await cli(['operator-user', 'unlink', 'owner@vmcloud.local', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).operator, false);
      r = await cli(['operator-user', 'list', '-o', 'json']);
      assert.deepEqual(
        JSON.parse(r.stdout).map((u: { email: string }) => u.email),
        ['operator@vmcloud.local'],
      );
      r = await cli(['operator-user', 'link', 'nobody@example.com']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not found|nobody/);
      r = await cli(['operator-user', 'link', 'owner@vmcloud.local'], t.secrets.projectToken);
      assert.notEqual(r.code, 0, 'a project token is refused');
      r = await cli(['operator-user', 'list', '-o', 'json']);
      assert.equal(JSON.parse(r.stdout).length, 1, 'nothing changed');
    });

    test('reset-totp prints a working link; own account, unknown and a project token exit non-zero', async () => {
      // The owner sets a password and turns TOTP on, and has a live session.
      const password = 'a long and sturdy passphrase';
      const redeemed = await fetch(`${t.url}/v1/auth/links/redeem`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: t.secrets.ownerSignIn.path.split('#token=')[1], password }),
      });
      assert.equal(redeemed.status, 200);
      const cookies = redeemed.headers.getSetCookie().map((c) => c.split(';')[0]);
      const cookie = cookies.join('; ');
      const csrf = cookies.find((c) => c.startsWith('vmc_csrf='))!.split('=')[1];
      const session = (method: string, path: string, body?: unknown) =>
        fetch(`${t.url}${path}`, {
          method,
          headers: {
            cookie,
            'x-csrf-token': csrf,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      const begun = (await (await session('POST', '/v1/auth/totp')).json()) as { secret: string };
      const code = totpAt(base32Decode(begun.secret), Date.now());
      assert.equal((await session('POST', '/v1/auth/totp/verify', { code })).status, 200);

      let r = await cli(['operator-user', 'reset-totp', 'owner@vmcloud.local'], t.secrets.projectToken);
      assert.notEqual(r.code, 0, 'a project token is refused');
      r = await cli(['operator-user', 'reset-totp', 'nobody@example.com']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not found|nobody/);
      r = await cli(['operator-user', 'reset-totp', 'operator@vmcloud.local']);
      assert.notEqual(r.code, 0, "the operator token's own account");
      assert.match(r.stderr, /own account/);
      assert.equal((await session('GET', '/v1/servers')).status, 200, 'the refusals changed nothing');

      r = await cli(['operator-user', 'reset-totp', 'owner@vmcloud.local']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        /owner@vmcloud\.local\): two-factor authentication reset, recovery codes deleted, 1 session/,
      );
      const url = /^ {2}(http\S+\/reset#token=vml_\S+)$/m.exec(r.stdout)?.[1];
      assert.ok(url, r.stdout);
      assert.equal((await session('GET', '/v1/servers')).status, 401, 'their session ended');
      const back = await fetch(`${t.url}/v1/auth/links/redeem`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: url.split('#token=')[1], password: `${password} renewed` }),
      });
      assert.equal(back.status, 200, 'the link sets a new password without the lost device');
      const signedIn = (await back.json()) as { user: { totp_enabled: boolean } };
      assert.equal(signedIn.user.totp_enabled, false);

      r = await cli(['operator-user', 'reset-totp', 'owner@vmcloud.local', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(r.stdout);
      assert.equal(json.had_totp, false);
      assert.match(json.url, /\/reset#token=vml_/);
    });
  });
}
