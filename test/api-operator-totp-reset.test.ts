/**
 * An operator resets another person's second factor (`POST /v1/users/{id}/reset-totp`): TOTP off, recovery
 * codes deleted, every session of theirs revoked (project and operator), a one-time link with which they set
 * a new password and enrol TOTP again, and their passkeys deleted (each signs in alone) — in one transaction, audited, with a `user.totp_reset` event. A
 * project token or session is refused (403), one's own account answers 409 `own_account`, an unknown user
 * 404, and none of the refusals changes anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until } from './helpers.ts';
import { base32Decode, createPeopleService, totpAt } from '../src/identity/index.ts';
import type { EventRecorder } from '../src/events/index.ts';
import type { Clock } from '../src/core/index.ts';
import { inTransaction } from '../src/db/index.ts';
import { createPasskeyStore } from '../src/identity/passkey-store.ts';

const cheapCost = { ln: 10, r: 8, p: 1 };

interface Jar {
  cookie: string;
  csrf: string;
}

function jarOf(response: Response, prefix: 'vmc' | 'vmc_operator' = 'vmc'): Jar {
  const cookies = response.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0];
  return {
    cookie: `${value(`${prefix}_session`)}; ${value(`${prefix}_csrf`)}`,
    csrf: value(`${prefix}_csrf`).split('=')[1],
  };
}

for (const dialect of testDialects())
  test(`operators reset another person's TOTP (${dialect})`, async (t) => {
    let offsetMs = 0;
    const clock: Clock = {
      nowMs: () => Date.now() + offsetMs,
      nowIso: () => new Date(Date.now() + offsetMs).toISOString(),
    };
    const nextStep = () => {
      offsetMs += 30_000;
    };
    const tcp = await startTestControlPlane(dialect, { passwordHashCost: cheapCost, clock });
    t.after(() => tcp.dispose());
    const json = async (
      method: string,
      path: string,
      options: { jars?: Jar[]; csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.jars?.length) headers.cookie = options.jars.map((j) => j.cookie).join('; ');
      if (options.csrf !== undefined) headers['x-csrf-token'] = options.csrf;
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(tcp.url + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await response.text();
      return { response, status: response.status, body: text ? JSON.parse(text) : null };
    };
    const operatorToken = tcp.secrets.operatorToken;
    const password = 'a long and sturdy passphrase';
    const email = tcp.secrets.ownerSignIn.email;
    const operators = async () =>
      (await tcp.call('GET', '/v1/operator-users', { token: operatorToken })).body.users as Array<{
        id: string;
        email: string;
        totp_enabled: boolean;
      }>;

    // The owner sets a password, turns TOTP on and is linked as an operator: a project session and an
    // operator session, both alive.
    const redeemed = await json('POST', '/v1/auth/links/redeem', {
      body: { token: tcp.secrets.ownerSignIn.path.split('#token=')[1], password },
    });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const ownerId = redeemed.body.user.id as string;
    const project = jarOf(redeemed.response);
    const begun = await json('POST', '/v1/auth/totp', { jars: [project], csrf: project.csrf });
    const secret = base32Decode(begun.body.secret);
    const verified = await json('POST', '/v1/auth/totp/verify', {
      jars: [project],
      csrf: project.csrf,
      body: { code: totpAt(secret, clock.nowMs()) },
    });
    assert.equal(verified.status, 200);
    assert.equal(verified.body.recovery_codes.length, 10);
    assert.equal((await tcp.call('POST', '/v1/operator-users', { token: operatorToken, body: { email } })).status, 200);
    nextStep();
    const signedIn = await json('POST', '/v1/auth/operator-login', {
      body: { email, password, totp_code: totpAt(secret, clock.nowMs()) },
    });
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const operator = jarOf(signedIn.response, 'vmc_operator');

    /** What a refusal must leave as it was. */
    const unchanged = async (why: string) => {
      assert.equal((await json('GET', '/v1/servers', { jars: [project] })).status, 200, `${why}: project session`);
      assert.equal((await json('GET', '/v1/hosts', { jars: [operator] })).status, 200, `${why}: operator session`);
      const me = await json('GET', '/v1/auth/session', { jars: [project] });
      assert.equal(me.body.user.totp_enabled, true, `${why}: TOTP`);
      assert.equal(me.body.user.recovery_codes_left, 10, `${why}: recovery codes`);
    };

    await t.test('a project token or session is refused 403; nothing changes', async () => {
      const byToken = await tcp.call('POST', `/v1/users/${ownerId}/reset-totp`, { body: {} });
      assert.equal(byToken.status, 403, JSON.stringify(byToken.body));
      const bySession = await json('POST', `/v1/users/${ownerId}/reset-totp`, { jars: [project], csrf: project.csrf });
      assert.equal(bySession.status, 403);
      await unchanged('after project callers');
    });

    await t.test('an unknown user is 404 (by id and by email)', async () => {
      for (const ref of ['usr_00000000000000000000000000', 'nobody@example.com']) {
        const unknown = await tcp.call('POST', `/v1/users/${encodeURIComponent(ref)}/reset-totp`, {
          token: operatorToken,
          body: {},
        });
        assert.equal(unknown.status, 404, `${ref}: ${JSON.stringify(unknown.body)}`);
      }
    });

    await t.test('a failure at the last step (the link) rolls the whole reset back', async () => {
      // The same service on the same database, whose event recorder fails on the link's event: the TOTP
      // secret, the recovery codes and the sessions written off before it must all still be there.
      const events = tcp.cp.services.events;
      const failing: EventRecorder = {
        ...events,
        record: async (tx, hooks, event) => {
          if (event.type === 'user.link_issued') throw new Error('injected failure');
          return events.record(tx, hooks, event);
        },
      };
      const people = createPeopleService({
        db: tcp.cp.db,
        clock,
        events: failing,
        keyStore: tcp.cp.keyStore,
        memberTokens: tcp.cp.services.identity,
      });
      await assert.rejects(
        people.resetTotp({ kind: 'operator', tokenId: 'opt_test', userId: null }, ownerId),
        /injected failure/,
      );
      await unchanged('after a failed reset');
    });

    await t.test("one's own account is 409 own_account (token and session alike); nothing changes", async () => {
      const own = await json('POST', `/v1/users/${ownerId}/reset-totp`, { jars: [operator], csrf: operator.csrf });
      assert.equal(own.status, 409, JSON.stringify(own.body));
      assert.equal(own.body.reason, 'own_account');
      const noCsrf = await json('POST', `/v1/users/${ownerId}/reset-totp`, { jars: [operator] });
      assert.equal(noCsrf.status, 403, 'the operator session needs its CSRF token');
      // The operator token acts for the first operator, operator@vmcloud.local.
      const tokenOwn = await tcp.call('POST', '/v1/users/operator@vmcloud.local/reset-totp', {
        token: operatorToken,
        body: {},
      });
      assert.equal(tokenOwn.status, 409);
      assert.equal(tokenOwn.body.reason, 'own_account');
      await unchanged('after own_account');
    });

    let linkToken = '';
    await t.test(
      'the reset: TOTP off, codes and passkeys deleted, every session revoked, a link; audited, an event',
      async () => {
        // A passkey of theirs (the console registers them; here written as the registration stores one).
        const passkeys = createPasskeyStore();
        await inTransaction(tcp.cp.db, (tx) =>
          passkeys.insert(tx, {
            id: 'pk_lostphone',
            userId: ownerId,
            credentialId: 'Y3JlZGVudGlhbC1vbi10aGUtbG9zdC1waG9uZQ',
            publicKey: 'cHVibGljLWtleQ',
            counter: 0,
            transports: ['internal'],
            name: 'Lost phone',
            backedUp: false,
            createdAt: clock.nowIso(),
            lastUsedAt: null,
          }),
        );
        const reset = await tcp.call('POST', `/v1/users/${encodeURIComponent(email.toUpperCase())}/reset-totp`, {
          token: operatorToken,
          body: {},
        });
        assert.equal(reset.status, 201, JSON.stringify(reset.body));
        assert.equal(reset.body.user.id, ownerId);
        assert.equal(reset.body.had_totp, true);
        assert.equal(reset.body.passkeys_deleted, 1);
        assert.equal(await passkeys.countOfUser(tcp.cp.db, ownerId), 0, 'the lost phone no longer signs in');
        assert.equal(reset.body.sessions_revoked, 2, 'the project session and the operator session');
        assert.equal(reset.body.link.purpose, 'reset_password');
        assert.match(reset.body.link.path, /^\/reset#token=vml_/);
        linkToken = reset.body.link.path.split('#token=')[1];
        for (const [jar, path] of [
          [project, '/v1/servers'],
          [operator, '/v1/hosts'],
        ] as const) {
          const gone = await json('GET', path, { jars: [jar] });
          assert.equal(gone.status, 401, path);
          assert.equal(gone.body.reason, 'session_expired');
        }
        assert.equal((await operators()).find((u) => u.email === email)?.totp_enabled, false);
        // The old password and code no longer open an operator session: TOTP is off.
        nextStep();
        const operatorLogin = await json('POST', '/v1/auth/operator-login', {
          body: { email, password, totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(operatorLogin.status, 403);
        assert.equal(operatorLogin.body.reason, 'operator_totp_required');
        const event = await until('the user.totp_reset event', async () =>
          (await tcp.call('GET', '/v1/events?type=user.totp_reset', { token: operatorToken })).body.events.find(
            (e: { resource: { id: string } }) => e.resource.id === ownerId,
          ),
        );
        assert.equal(event.data.email, email);
        assert.equal(event.data.had_totp, true);
        assert.equal(event.data.recovery_codes_deleted, 10);
        assert.equal(event.data.passkeys_deleted, 1);
        assert.equal(event.data.sessions_revoked, 2);
        assert.match(event.data.by, /^usr_/, 'the operator who acted');
        const revokedEvents = await until('session.revoked events', async () => {
          const events = (
            await tcp.call('GET', '/v1/events?type=session.revoked', { token: operatorToken })
          ).body.events.filter((e: { data: { reason: string } }) => e.data.reason === 'totp_reset');
          return events.length === 2 && events;
        });
        assert.equal(revokedEvents.length, 2);
        const audit = await tcp.call('GET', '/v1/audit-log?limit=50', { token: operatorToken });
        const entry = audit.body.entries.find(
          (e: { action: string; outcome: string }) => /reset-totp/.test(e.action) && e.outcome === 'success',
        );
        assert.ok(entry, JSON.stringify(audit.body.entries.map((e: { action: string }) => e.action)));
        assert.equal(entry.actor.user_id, event.data.by);
      },
    );

    let newSecret!: Buffer;
    await t.test('the link sets a new password and enrols TOTP again; recovery codes come back', async () => {
      const enrol = await json('POST', '/v1/auth/links/totp', { body: { token: linkToken } });
      assert.equal(enrol.status, 200, JSON.stringify(enrol.body));
      newSecret = base32Decode(enrol.body.secret);
      const newPassword = `${password} renewed`;
      const ok = await json('POST', '/v1/auth/links/operator-redeem', {
        body: { token: linkToken, password: newPassword, new_totp_code: totpAt(newSecret, clock.nowMs()) },
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.user.totp_enabled, true);
      assert.equal(ok.body.recovery_codes.length, 10);
      const operatorAgain = jarOf(ok.response, 'vmc_operator');
      assert.equal((await json('GET', '/v1/hosts', { jars: [operatorAgain] })).status, 200);
      nextStep();
      const projectLogin = await json('POST', '/v1/auth/login', {
        body: { email, password: newPassword, totp_code: totpAt(newSecret, clock.nowMs()) },
      });
      assert.equal(projectLogin.status, 200, JSON.stringify(projectLogin.body));
      assert.equal(projectLogin.body.session.second_factor, 'totp');
      const oldCode = await json('POST', '/v1/auth/login', {
        body: { email, password: newPassword, totp_code: totpAt(secret, clock.nowMs()) },
      });
      assert.equal(oldCode.status, 401, 'the lost device’s codes no longer work');

      // Now an operator session resets a project member's TOTP (by id): they set a password with the link
      // (a project session, second factor `link`) and turn TOTP on again in Account.
      const created = await tcp.call('POST', '/v1/users', {
        token: operatorToken,
        body: { email: 'member-totp@example.com', project_id: tcp.secrets.projectId, role: 'member' },
      });
      const memberId = created.body.user.id as string;
      const first = await json('POST', '/v1/auth/links/redeem', {
        body: { token: created.body.link.path.split('#token=')[1], password },
      });
      const memberJar = jarOf(first.response);
      const memberBegun = await json('POST', '/v1/auth/totp', { jars: [memberJar], csrf: memberJar.csrf });
      const memberSecret = base32Decode(memberBegun.body.secret);
      const memberVerified = await json('POST', '/v1/auth/totp/verify', {
        jars: [memberJar],
        csrf: memberJar.csrf,
        body: { code: totpAt(memberSecret, clock.nowMs()) },
      });
      assert.equal(memberVerified.status, 200);
      const reset = await json('POST', `/v1/users/${memberId}/reset-totp`, {
        jars: [operatorAgain],
        csrf: operatorAgain.csrf,
      });
      assert.equal(reset.status, 201, JSON.stringify(reset.body));
      assert.equal(reset.body.sessions_revoked, 1);
      assert.equal((await json('GET', '/v1/servers', { jars: [memberJar] })).status, 401);
      const memberLink = reset.body.link.path.split('#token=')[1];
      const back = await json('POST', '/v1/auth/links/redeem', {
        body: { token: memberLink, password: `${password} too` },
      });
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.equal(back.body.session.second_factor, 'link');
      assert.equal(back.body.user.totp_enabled, false);
      assert.equal(back.body.user.recovery_codes_left, 0);
      const backJar = jarOf(back.response);
      const again = await json('POST', '/v1/auth/totp', { jars: [backJar], csrf: backJar.csrf });
      assert.equal(again.status, 200, 'TOTP can be turned on again');
      const event = await until('the member reset event', async () =>
        (await tcp.call('GET', '/v1/events?type=user.totp_reset', { token: operatorToken })).body.events.find(
          (e: { resource: { id: string } }) => e.resource.id === memberId,
        ),
      );
      assert.equal(event.data.by, ownerId, 'the operator of the session acted');
    });
  });
