/**
 * Operator sessions for people over real HTTP (issue #16): an operator links a user by email (audited,
 * with an event); the user opens an operator session with password + TOTP in its own cookies, beside a
 * project session; CSRF on its mutations; a user without TOTP, a user who is not an operator and a wrong
 * password are refused without saying more than the sign-in does; sessions listed, revoked, signed out;
 * unlinking ends the operator sessions at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until } from './helpers.ts';
import { base32Decode, totpAt } from '../src/identity/index.ts';
import type { Clock } from '../src/core/index.ts';

const cheapCost = { ln: 10, r: 8, p: 1 };

interface Jar {
  cookie: string;
  csrf: string;
}

/** The cookies a sign-in set: `vmc_session`/`vmc_csrf` or `vmc_operator_session`/`vmc_operator_csrf`. */
function jarOf(response: Response, prefix: 'vmc' | 'vmc_operator' = 'vmc'): Jar {
  const cookies = response.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0];
  return {
    cookie: `${value(`${prefix}_session`)}; ${value(`${prefix}_csrf`)}`,
    csrf: value(`${prefix}_csrf`).split('=')[1],
  };
}

for (const dialect of testDialects())
  test(`operator sessions (${dialect}): link, password + TOTP, own cookies, CSRF, unlink`, async (t) => {
    // TOTP codes work once per 30 s step: the test moves the control plane's clock a step forward
    // before each further sign-in instead of waiting.
    let offsetMs = 0;
    const clock: Clock = {
      nowMs: () => Date.now() + offsetMs,
      nowIso: () => new Date(Date.now() + offsetMs).toISOString(),
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

    // The owner sets a password and turns TOTP on (the console's Account page does the same).
    const redeemed = await json('POST', '/v1/auth/links/redeem', {
      body: { token: tcp.secrets.ownerSignIn.path.split('#token=')[1], password },
    });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
    const project = jarOf(redeemed.response);
    const begun = await json('POST', '/v1/auth/totp', { jars: [project], csrf: project.csrf });
    const secret = base32Decode(begun.body.secret);
    const code = () => totpAt(secret, clock.nowMs());
    const verified = await json('POST', '/v1/auth/totp/verify', {
      jars: [project],
      csrf: project.csrf,
      body: { code: code() },
    });
    assert.equal(verified.status, 200);
    const nextStep = () => {
      offsetMs += 30_000;
    };

    await t.test('before the link: the right password learns not_operator; a wrong one what sign-in says', async () => {
      nextStep();
      const notOperator = await json('POST', '/v1/auth/operator-login', {
        body: { email, password, totp_code: code() },
      });
      assert.equal(notOperator.status, 403);
      assert.equal(notOperator.body.reason, 'not_operator');
      assert.equal(notOperator.response.headers.getSetCookie().length, 0);
      const wrong = await json('POST', '/v1/auth/operator-login', {
        body: { email, password: 'not the password!', totp_code: code() },
      });
      const unknown = await json('POST', '/v1/auth/operator-login', {
        body: { email: 'nobody@example.com', password, totp_code: code() },
      });
      for (const refused of [wrong, unknown]) {
        assert.equal(refused.status, 401);
        assert.equal(refused.body.reason, 'bad_credentials');
      }
      const projectLogin = await json('POST', '/v1/auth/login', {
        body: { email: 'nobody@example.com', password },
      });
      assert.equal(projectLogin.body.reason, 'bad_credentials');
    });

    await t.test('linking needs an operator: a project session or token is refused', async () => {
      const bySession = await json('POST', '/v1/operator-users', {
        jars: [project],
        csrf: project.csrf,
        body: { email },
      });
      assert.equal(bySession.status, 403);
      const byToken = await tcp.call('POST', '/v1/operator-users', { body: { email } });
      assert.equal(byToken.status, 403);
      const unknown = await tcp.call('POST', '/v1/operator-users', {
        token: operatorToken,
        body: { email: 'nobody@example.com' },
      });
      assert.equal(unknown.status, 404);
    });

    await t.test('an operator links the user: audited, an event, listed', async () => {
      const linked = await tcp.call('POST', '/v1/operator-users', { token: operatorToken, body: { email } });
      assert.equal(linked.status, 200, JSON.stringify(linked.body));
      assert.equal(linked.body.operator, true);
      assert.equal(linked.body.totp_enabled, true);
      const listed = await tcp.call('GET', '/v1/operator-users', { token: operatorToken });
      assert.ok(listed.body.users.some((u: { email: string }) => u.email === email));
      // The outbox shows an event once every earlier transaction committed (PostgreSQL): poll.
      const event = await until('the user.operator_linked event', async () =>
        (await tcp.call('GET', '/v1/events?type=user.operator_linked', { token: operatorToken })).body.events.find(
          (e: { resource: { id: string } }) => e.resource.id === linked.body.id,
        ),
      );
      assert.equal(event.data.email, email);
      const audit = await tcp.call('GET', '/v1/audit-log?limit=50', { token: operatorToken });
      assert.ok(
        audit.body.entries.some(
          (e: { action: string; outcome: string }) => e.action === 'POST /v1/operator-users' && e.outcome === 'success',
        ),
        JSON.stringify(audit.body.entries.map((e: { action: string }) => e.action)),
      );
    });

    let operator!: Jar;
    await t.test('password + TOTP open an operator session in its own cookies', async () => {
      const noCode = await json('POST', '/v1/auth/operator-login', { body: { email, password } });
      assert.equal(noCode.status, 401);
      assert.equal(noCode.body.reason, 'totp_required');
      nextStep();
      const totp = code();
      const ok = await json('POST', '/v1/auth/operator-login', { body: { email, password, totp_code: totp } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.session.second_factor, 'totp');
      assert.equal(ok.body.user.email, email);
      const cookies = ok.response.headers.getSetCookie();
      assert.ok(cookies.some((c) => /^vmc_operator_session=vms_.*HttpOnly/.test(c)));
      assert.ok(cookies.some((c) => /^vmc_operator_csrf=/.test(c) && !/HttpOnly/.test(c)));
      assert.ok(!cookies.some((c) => /^vmc_session=/.test(c)), 'the project session cookie is left alone');
      operator = jarOf(ok.response, 'vmc_operator');
      const replay = await json('POST', '/v1/auth/operator-login', { body: { email, password, totp_code: totp } });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.reason, 'totp_replayed');
    });

    await t.test('the operator session reads and changes the operator API; mutations need its CSRF token', async () => {
      const hosts = await json('GET', '/v1/hosts', { jars: [operator] });
      assert.equal(hosts.status, 200);
      assert.ok(hosts.body.hosts.length > 0);
      const me = await json('GET', '/v1/auth/operator-session', { jars: [operator] });
      assert.equal(me.body.via, 'session');
      assert.equal(me.body.user.email, email);
      const body = { name: 'from-the-console' };
      const noCsrf = await json('POST', '/v1/operator-tokens', { jars: [operator], body });
      assert.equal(noCsrf.status, 403);
      assert.equal(noCsrf.body.reason, 'csrf');
      const projectCsrf = await json('POST', '/v1/operator-tokens', { jars: [operator], csrf: project.csrf, body });
      assert.equal(projectCsrf.status, 403, 'the project session CSRF token does not fit the operator session');
      const foreign = await json('POST', '/v1/operator-tokens', {
        jars: [operator],
        csrf: operator.csrf,
        body,
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(foreign.status, 403);
      const created = await json('POST', '/v1/operator-tokens', { jars: [operator], csrf: operator.csrf, body });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const projectApi = await json('GET', '/v1/servers', { jars: [operator] });
      assert.equal(projectApi.status, 403, 'an operator session is not a project session');
    });

    await t.test('both sessions side by side: each route takes the session of its kind', async () => {
      const servers = await json('GET', '/v1/servers', { jars: [project, operator] });
      assert.equal(servers.status, 200);
      const hosts = await json('GET', '/v1/hosts', { jars: [project, operator] });
      assert.equal(hosts.status, 200);
      const asProject = await json('GET', '/v1/capacity', { jars: [project, operator] });
      assert.equal(asProject.status, 200);
      assert.equal(asProject.body.capacity[0].hosts, undefined, 'a customer capacity report');
      const asOperator = await json('GET', '/v1/capacity', {
        jars: [project, operator],
        headers: { 'x-vmcloud-session': 'operator' },
      });
      assert.equal(asOperator.status, 200);
      assert.ok(asOperator.body.capacity[0].hosts !== undefined, JSON.stringify(asOperator.body.capacity[0]));
      const noOperator = await json('GET', '/v1/capacity', {
        jars: [project],
        headers: { 'x-vmcloud-session': 'operator' },
      });
      assert.equal(noOperator.status, 401, 'asked for the operator session: the project session does not stand in');
      const projectOnly = await json('GET', '/v1/hosts', { jars: [project] });
      assert.equal(projectOnly.status, 403, 'a project session is refused the operator API');
      const projectSessions = await json('GET', '/v1/auth/sessions', { jars: [project, operator] });
      assert.equal(projectSessions.status, 200);
      const operatorSessions = await json('GET', '/v1/auth/operator-sessions', { jars: [project, operator] });
      assert.equal(operatorSessions.status, 200);
      assert.equal(operatorSessions.body.sessions.length, 1);
      assert.equal(operatorSessions.body.sessions[0].current, true);
      const ids = new Set(projectSessions.body.sessions.map((s: { id: string }) => s.id));
      assert.ok(!ids.has(operatorSessions.body.sessions[0].id), 'project sessions do not list operator sessions');
      const viaToken = await tcp.call('GET', '/v1/auth/operator-session', { token: operatorToken });
      assert.equal(viaToken.body.via, 'token');
      assert.equal((await tcp.call('GET', '/v1/auth/operator-sessions', { token: operatorToken })).status, 403);
    });

    await t.test('operator sessions are revoked one by one and signed out', async () => {
      nextStep();
      const second = await json('POST', '/v1/auth/operator-login', { body: { email, password, totp_code: code() } });
      assert.equal(second.status, 200);
      const other = jarOf(second.response, 'vmc_operator');
      const listed = await json('GET', '/v1/auth/operator-sessions', { jars: [operator] });
      assert.equal(listed.body.sessions.length, 2);
      const otherId = listed.body.sessions.find((s: { current: boolean }) => !s.current).id;
      const byProject = await json('DELETE', `/v1/auth/sessions/${otherId}`, { jars: [project], csrf: project.csrf });
      assert.equal(byProject.status, 404, 'the project session API does not reach operator sessions');
      const revoked = await json('DELETE', `/v1/auth/operator-sessions/${otherId}`, {
        jars: [operator],
        csrf: operator.csrf,
      });
      assert.equal(revoked.status, 204);
      const gone = await json('GET', '/v1/hosts', { jars: [other] });
      assert.equal(gone.status, 401);
      assert.equal(gone.body.reason, 'session_expired');

      nextStep();
      const third = await json('POST', '/v1/auth/operator-login', { body: { email, password, totp_code: code() } });
      const leaving = jarOf(third.response, 'vmc_operator');
      const logout = await json('POST', '/v1/auth/operator-logout', { jars: [project, leaving], csrf: leaving.csrf });
      assert.equal(logout.status, 204);
      const cleared = logout.response.headers.getSetCookie();
      assert.ok(cleared.some((c) => /^vmc_operator_session=;.*Max-Age=0/.test(c)));
      assert.ok(!cleared.some((c) => /^vmc_session=/.test(c)), 'the project session stays');
      assert.equal((await json('GET', '/v1/hosts', { jars: [leaving] })).status, 401);
      assert.equal((await json('GET', '/v1/servers', { jars: [project] })).status, 200);
    });

    await t.test('a linked user without TOTP is refused operator_totp_required', async () => {
      const created = await tcp.call('POST', '/v1/users', {
        token: operatorToken,
        body: { email: 'no-totp@example.com', project_id: tcp.secrets.projectId, role: 'member' },
      });
      const link = created.body.link.path.split('#token=')[1];
      assert.equal((await json('POST', '/v1/auth/links/redeem', { body: { token: link, password } })).status, 200);
      const linked = await tcp.call('POST', '/v1/operator-users', {
        token: operatorToken,
        body: { email: 'no-totp@example.com' },
      });
      assert.equal(linked.body.totp_enabled, false);
      const refused = await json('POST', '/v1/auth/operator-login', {
        body: { email: 'no-totp@example.com', password, totp_code: '123456' },
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.reason, 'operator_totp_required');
      const wrong = await json('POST', '/v1/auth/operator-login', {
        body: { email: 'no-totp@example.com', password: 'wrong password here' },
      });
      assert.equal(wrong.status, 401, 'without the password nothing is learnt about TOTP');
      assert.equal(wrong.body.reason, 'bad_credentials');
    });

    await t.test('unlinking ends the operator sessions at once, with events', async () => {
      const unlinked = await tcp.call('POST', '/v1/operator-users/unlink', { token: operatorToken, body: { email } });
      assert.equal(unlinked.status, 200, JSON.stringify(unlinked.body));
      assert.equal(unlinked.body.operator, false);
      const after = await json('GET', '/v1/hosts', { jars: [operator] });
      assert.equal(after.status, 401);
      assert.equal(after.body.reason, 'session_expired');
      assert.equal((await json('GET', '/v1/servers', { jars: [project] })).status, 200, 'the project session stays');
      const events = await until('the user.operator_unlinked event', async () => {
        const page = await tcp.call('GET', '/v1/events?type=user.operator_unlinked,session.revoked', {
          token: operatorToken,
        });
        return page.body.events.some((e: { type: string }) => e.type === 'user.operator_unlinked') && page.body.events;
      });
      const unlinkedEvent = events.find((e: { type: string }) => e.type === 'user.operator_unlinked');
      assert.equal(unlinkedEvent.data.sessions_revoked, 1);
      assert.ok(
        events.some(
          (e: { type: string; data: { reason: string } }) =>
            e.type === 'session.revoked' && e.data.reason === 'operator_unlinked',
        ),
      );
      nextStep();
      const again = await json('POST', '/v1/auth/operator-login', { body: { email, password, totp_code: code() } });
      assert.equal(again.status, 403);
      assert.equal(again.body.reason, 'not_operator');
      const twice = await tcp.call('POST', '/v1/operator-users/unlink', { token: operatorToken, body: { email } });
      assert.equal(twice.status, 200, 'unlinking twice changes nothing');
    });

    await t.test(
      'an operator of no project sets a password through a link, turns TOTP on there, signs in',
      async () => {
        // The first start's operator (operator@vmcloud.local) is linked and belongs to no project.
        const who = 'operator@vmcloud.local';
        const issued = await tcp.call('POST', '/v1/users/reset-link', { token: operatorToken, body: { email: who } });
        assert.equal(issued.status, 201, JSON.stringify(issued.body));
        const token = issued.body.link.path.split('#token=')[1];
        const totpOf = async () =>
          (await tcp.call('GET', '/v1/operator-users', { token: operatorToken })).body.users.find(
            (u: { email: string }) => u.email === who,
          ).totp_enabled;

        const asProject = await json('POST', '/v1/auth/links/redeem', { body: { token, password } });
        assert.equal(asProject.status, 403);
        assert.equal(asProject.body.reason, 'no_project');
        assert.match(asProject.body.detail, /operator/);
        const noCode = await json('POST', '/v1/auth/links/operator-redeem', { body: { token, password } });
        assert.equal(noCode.status, 403);
        assert.equal(noCode.body.reason, 'operator_totp_required');
        const badLink = await json('POST', '/v1/auth/links/totp', { body: { token: `vml_${'x'.repeat(43)}` } });
        assert.equal(badLink.status, 401);
        assert.equal(badLink.body.reason, 'link_invalid');

        const begun = await json('POST', '/v1/auth/links/totp', { body: { token } });
        assert.equal(begun.status, 200, JSON.stringify(begun.body));
        assert.match(begun.body.otpauth_uri, /^otpauth:\/\/totp\//);
        const secret = base32Decode(begun.body.secret);
        const wrongCode = totpAt(secret, clock.nowMs()) === '000000' ? '111111' : '000000';
        const wrong = await json('POST', '/v1/auth/links/operator-redeem', {
          body: { token, password, new_totp_code: wrongCode },
        });
        assert.equal(wrong.status, 400);
        assert.equal(wrong.body.reason, 'totp_invalid');
        const weak = await json('POST', '/v1/auth/links/operator-redeem', {
          body: { token, password: 'operator@vmcloud.local', new_totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(weak.body.reason, 'weak_password');
        // Nothing was half done: no TOTP, no password, the link still works.
        assert.equal(await totpOf(), false);
        const noPassword = await json('POST', '/v1/auth/operator-login', {
          body: { email: who, password, totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(noPassword.body.reason, 'bad_credentials');

        const ok = await json('POST', '/v1/auth/links/operator-redeem', {
          body: { token, password, new_totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(ok.body.user.email, who);
        assert.equal(ok.body.user.totp_enabled, true);
        assert.equal(ok.body.session.second_factor, 'totp');
        assert.equal(ok.body.recovery_codes.length, 10);
        assert.ok(!ok.response.headers.getSetCookie().some((c) => /^vmc_session=/.test(c)), 'no project session');
        const jar = jarOf(ok.response, 'vmc_operator');
        assert.equal((await json('GET', '/v1/hosts', { jars: [jar] })).status, 200);
        assert.equal(await totpOf(), true);
        const reused = await json('POST', '/v1/auth/links/operator-redeem', {
          body: { token, password, totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(reused.body.reason, 'link_invalid');
        nextStep();
        const signIn = await json('POST', '/v1/auth/operator-login', {
          body: { email: who, password, totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(signIn.status, 200, JSON.stringify(signIn.body));

        // A later link: TOTP is on, so the link needs its code and offers no new secret; other sessions end.
        const again = await tcp.call('POST', '/v1/users/reset-link', { token: operatorToken, body: { email: who } });
        const token2 = again.body.link.path.split('#token=')[1];
        const enrolAgain = await json('POST', '/v1/auth/links/totp', { body: { token: token2 } });
        assert.equal(enrolAgain.status, 409);
        assert.equal(enrolAgain.body.reason, 'totp_enabled');
        nextStep();
        const reset = await json('POST', '/v1/auth/links/operator-redeem', {
          body: { token: token2, password: `${password} again`, totp_code: totpAt(secret, clock.nowMs()) },
        });
        assert.equal(reset.status, 200, JSON.stringify(reset.body));
        assert.equal(reset.body.recovery_codes, null);
        assert.equal((await json('GET', '/v1/hosts', { jars: [jar] })).status, 401, 'the earlier session ended');

        // A person who is not an operator uses their link for their project, never here.
        const member = await tcp.call('POST', '/v1/users', {
          token: operatorToken,
          body: { email: 'member-link@example.com', project_id: tcp.secrets.projectId, role: 'member' },
        });
        const memberToken = member.body.link.path.split('#token=')[1];
        const notOperator = await json('POST', '/v1/auth/links/totp', { body: { token: memberToken } });
        assert.equal(notOperator.status, 403);
        assert.equal(notOperator.body.reason, 'not_operator');
        const notOperatorRedeem = await json('POST', '/v1/auth/links/operator-redeem', {
          body: { token: memberToken, password, new_totp_code: '123456' },
        });
        assert.equal(notOperatorRedeem.body.reason, 'not_operator');
      },
    );
  });
