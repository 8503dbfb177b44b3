/**
 * Passkeys over real HTTP (docs/adr/0013-passkeys.md; issue 16), with a software authenticator: a signed-in
 * user registers a passkey and signs in with it — no TOTP asked even when TOTP is on (a passkey with user
 * verification is two factors). The error paths: an unknown, reused or mismatched challenge, no user
 * verification, a wrong origin, an expired challenge, an unknown credential, a signature counter that does not grow, another
 * user's passkey (404), a token instead of a session (403). Events and failed sign-ins are recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects } from './helpers.ts';
import { createSoftAuthenticator } from './soft-authenticator.ts';
import { passkeyOptionsPerMinute } from '../src/api/rest/routes/auth.ts';
import { base32Decode, passkeyChallengeLifetimeMs, totpAt } from '../src/identity/index.ts';

const cheapCost = { ln: 10, r: 8, p: 1 };
const password = 'a long and sturdy passphrase';

type Jar = { cookie: string; csrf: string };

function jarOf(response: Response): Jar {
  const cookies = response.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0];
  return { cookie: `${value('vmc_session')}; ${value('vmc_csrf')}`, csrf: value('vmc_csrf').split('=')[1] };
}

for (const dialect of testDialects())
  test(`passkeys (${dialect}): register, sign in, and every refusal`, { timeout: 120_000 }, async (t) => {
    // The clock runs with the wall clock, shifted by hand past a challenge's lifetime once.
    let shiftMs = 0;
    const clock = {
      nowMs: () => Date.now() + shiftMs,
      nowIso: () => new Date(Date.now() + shiftMs).toISOString(),
    };
    const tcp = await startTestControlPlane(dialect, { passwordHashCost: cheapCost, clock });
    t.after(() => tcp.dispose());
    const json = async (
      method: string,
      path: string,
      options: { token?: string | null; jar?: Jar; body?: unknown } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.jar) {
        headers.cookie = options.jar.cookie;
        headers['x-csrf-token'] = options.jar.csrf;
      }
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(tcp.url + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await response.text();
      return { response, status: response.status, body: text ? JSON.parse(text) : null };
    };
    const refusal = (answer: { status: number; body: { code: string; reason?: string } }) =>
      `${answer.status} ${answer.body.code} ${answer.body.reason ?? ''}`.trim();
    const signInByLink = async (email: string, role: string) => {
      const created = await json('POST', '/v1/users', {
        token: tcp.secrets.operatorToken,
        body: { email, project_id: tcp.secrets.projectId, role },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const token = (created.body.link.path as string).split('#token=')[1];
      const redeemed = await json('POST', '/v1/auth/links/redeem', { body: { token, password } });
      assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
      return jarOf(redeemed.response);
    };
    const authenticator = createSoftAuthenticator(tcp.url);
    const alice = await signInByLink('alice@example.com', 'member');
    const bob = await signInByLink('bob@example.com', 'member');

    // A token is not a person: 403 session_required.
    const byToken = await json('POST', '/v1/auth/passkeys/registration-options', { token: tcp.secrets.projectToken });
    assert.equal(refusal(byToken), '403 forbidden session_required');
    // Without the CSRF token the cookie does not count.
    const noCsrf = await fetch(`${tcp.url}/v1/auth/passkeys/registration-options`, {
      method: 'POST',
      headers: { cookie: alice.cookie },
    });
    assert.equal(noCsrf.status, 403);

    // Registration.
    const options = await json('POST', '/v1/auth/passkeys/registration-options', { jar: alice });
    assert.equal(options.status, 200, JSON.stringify(options.body));
    assert.match(options.body.challenge_id, /^pkc_/);
    assert.equal(options.body.options.authenticatorSelection.residentKey, 'required');
    assert.equal(options.body.options.authenticatorSelection.userVerification, 'required');
    const made = authenticator.create(options.body.options);
    const registered = await json('POST', '/v1/auth/passkeys', {
      jar: alice,
      body: { challenge_id: options.body.challenge_id, name: 'Laptop', credential: made.response },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    assert.equal(registered.body.passkey.name, 'Laptop');
    assert.deepEqual(registered.body.passkey.transports, ['internal']);
    const passkeyId = registered.body.passkey.id as string;

    // The same challenge twice: refused (single use), even with a fresh credential.
    const reused = await json('POST', '/v1/auth/passkeys', {
      jar: alice,
      body: {
        challenge_id: options.body.challenge_id,
        credential: authenticator.create(options.body.options).response,
      },
    });
    assert.equal(refusal(reused), '400 invalid passkey_challenge_invalid');
    // An unknown challenge, and one of another user.
    const unknown = await json('POST', '/v1/auth/passkeys', {
      jar: alice,
      body: { challenge_id: 'pkc_unknown', credential: made.response },
    });
    assert.equal(refusal(unknown), '400 invalid passkey_challenge_invalid');
    const bobsOptions = await json('POST', '/v1/auth/passkeys/registration-options', { jar: bob });
    const stolen = await json('POST', '/v1/auth/passkeys', {
      jar: alice,
      body: {
        challenge_id: bobsOptions.body.challenge_id,
        credential: authenticator.create(bobsOptions.body.options).response,
      },
    });
    assert.equal(refusal(stolen), '400 invalid passkey_challenge_invalid');
    // A credential made for another challenge, without user verification, or from another origin.
    for (const [what, answer] of [
      ['another challenge', (o: typeof options.body.options) => authenticator.create({ ...o, challenge: 'AAAA' })],
      ['no user verification', (o: typeof options.body.options) => authenticator.create(o, { userVerified: false })],
      [
        'another origin',
        (o: typeof options.body.options) => authenticator.create(o, { origin: 'https://evil.example' }),
      ],
    ] as const) {
      const fresh = await json('POST', '/v1/auth/passkeys/registration-options', { jar: alice });
      const refused = await json('POST', '/v1/auth/passkeys', {
        jar: alice,
        body: { challenge_id: fresh.body.challenge_id, credential: answer(fresh.body.options).response },
      });
      assert.equal(refusal(refused), '400 invalid passkey_invalid', what);
    }
    // The same credential again: 409.
    const again = await json('POST', '/v1/auth/passkeys/registration-options', { jar: alice });
    assert.deepEqual(
      again.body.options.excludeCredentials.map((c: { id: string }) => c.id),
      [made.credential.id],
      'the options exclude the passkeys the user has',
    );
    const duplicate = await json('POST', '/v1/auth/passkeys', {
      jar: alice,
      body: {
        challenge_id: again.body.challenge_id,
        credential: authenticator.create(again.body.options, { credentialId: made.credential.id }).response,
      },
    });
    assert.equal(refusal(duplicate), '409 conflict passkey_exists');

    const listed = await json('GET', '/v1/auth/passkeys', { jar: alice });
    assert.deepEqual(
      listed.body.passkeys.map((p: { id: string; name: string }) => [p.id, p.name]),
      [[passkeyId, 'Laptop']],
    );
    assert.deepEqual((await json('GET', '/v1/auth/passkeys', { jar: bob })).body.passkeys, []);

    // Alice turns TOTP on: her password sign-in now asks for the code, a passkey sign-in does not.
    const enrolment = await json('POST', '/v1/auth/totp', { jar: alice });
    const secret = base32Decode(enrolment.body.secret);
    const verified = await json('POST', '/v1/auth/totp/verify', {
      jar: alice,
      body: { code: totpAt(secret, Date.now()) },
    });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    const withPassword = await json('POST', '/v1/auth/login', { body: { email: 'alice@example.com', password } });
    assert.equal(refusal(withPassword), '401 unauthenticated totp_required');

    const loginOptions = async () => {
      const answer = await json('POST', '/v1/auth/passkey-login/options');
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.options.userVerification, 'required');
      assert.equal(answer.body.options.allowCredentials, undefined, 'discoverable: no credential list');
      return answer.body as { challenge_id: string; options: { challenge: string; rpId: string } };
    };
    const first = await loginOptions();
    const signedIn = await json('POST', '/v1/auth/passkey-login', {
      body: { challenge_id: first.challenge_id, credential: authenticator.get(made.credential, first.options) },
    });
    const storedCounter = made.credential.counter;
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    assert.equal(signedIn.body.user.email, 'alice@example.com');
    assert.equal(signedIn.body.session.second_factor, 'passkey');
    assert.equal(signedIn.body.user.passkeys, 1);
    const passkeyJar = jarOf(signedIn.response);
    const me = await json('GET', '/v1/auth/session', { jar: passkeyJar });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.email, 'alice@example.com');
    assert.ok((await json('GET', '/v1/auth/passkeys', { jar: alice })).body.passkeys[0].last_used_at);

    // The login challenge twice: refused.
    const replay = await json('POST', '/v1/auth/passkey-login', {
      body: { challenge_id: first.challenge_id, credential: authenticator.get(made.credential, first.options) },
    });
    assert.equal(refusal(replay), '401 unauthenticated passkey_challenge_invalid');
    // A registration challenge is no sign-in challenge.
    const registrationChallenge = await json('POST', '/v1/auth/passkeys/registration-options', { jar: alice });
    const crossed = await json('POST', '/v1/auth/passkey-login', {
      body: {
        challenge_id: registrationChallenge.body.challenge_id,
        credential: authenticator.get(made.credential, { challenge: registrationChallenge.body.options.challenge }),
      },
    });
    assert.equal(refusal(crossed), '401 unauthenticated passkey_challenge_invalid');
    // An answer signed over another challenge.
    const mismatch = await loginOptions();
    const wrongChallenge = await json('POST', '/v1/auth/passkey-login', {
      body: {
        challenge_id: mismatch.challenge_id,
        credential: authenticator.get(made.credential, { ...mismatch.options, challenge: 'AAAA' }),
      },
    });
    assert.equal(refusal(wrongChallenge), '401 unauthenticated passkey_invalid');
    // An unknown credential (never registered).
    const stranger = authenticator.create(options.body.options).credential;
    const unknownLogin = await loginOptions();
    const unregistered = await json('POST', '/v1/auth/passkey-login', {
      body: { challenge_id: unknownLogin.challenge_id, credential: authenticator.get(stranger, unknownLogin.options) },
    });
    assert.equal(refusal(unregistered), '401 unauthenticated passkey_unknown');
    // A counter that does not grow past the one the first sign-in stored (a cloned authenticator), and
    // another origin (refused answers above stored nothing).
    const stale = await loginOptions();
    const cloned = await json('POST', '/v1/auth/passkey-login', {
      body: {
        challenge_id: stale.challenge_id,
        credential: authenticator.get(made.credential, stale.options, { counter: storedCounter }),
      },
    });
    assert.equal(refusal(cloned), '401 unauthenticated passkey_invalid');
    assert.match(cloned.body.detail ?? cloned.body.title ?? '', /counter/i);
    const phished = await loginOptions();
    const otherOrigin = await json('POST', '/v1/auth/passkey-login', {
      body: {
        challenge_id: phished.challenge_id,
        credential: authenticator.get(made.credential, phished.options, { origin: 'https://evil.example' }),
      },
    });
    assert.equal(refusal(otherOrigin), '401 unauthenticated passkey_invalid');

    // An expired challenge (past its 5 minutes): refused, even with a right answer.
    const late = await loginOptions();
    shiftMs += passkeyChallengeLifetimeMs + 1_000;
    const expired = await json('POST', '/v1/auth/passkey-login', {
      body: { challenge_id: late.challenge_id, credential: authenticator.get(made.credential, late.options) },
    });
    assert.equal(refusal(expired), '401 unauthenticated passkey_challenge_invalid');

    // Deleting: another user's passkey is not found; one's own is gone, and signs in no more.
    assert.equal((await json('DELETE', `/v1/auth/passkeys/${passkeyId}`, { jar: bob })).status, 404);
    assert.equal((await json('DELETE', `/v1/auth/passkeys/pky_unknown`, { jar: alice })).status, 404);
    assert.equal((await json('GET', '/v1/auth/passkeys', { jar: alice })).body.passkeys.length, 1);
    assert.equal((await json('DELETE', `/v1/auth/passkeys/${passkeyId}`, { jar: alice })).status, 204);
    assert.deepEqual((await json('GET', '/v1/auth/passkeys', { jar: alice })).body.passkeys, []);
    const afterDelete = await loginOptions();
    const deleted = await json('POST', '/v1/auth/passkey-login', {
      body: {
        challenge_id: afterDelete.challenge_id,
        credential: authenticator.get(made.credential, afterDelete.options),
      },
    });
    assert.equal(refusal(deleted), '401 unauthenticated passkey_unknown');

    // The public options are throttled per address (each stores a challenge): 429 before long.
    let throttled: Awaited<ReturnType<typeof json>> | null = null;
    for (let i = 0; i <= passkeyOptionsPerMinute && !throttled; i++) {
      const answer = await json('POST', '/v1/auth/passkey-login/options');
      if (answer.status !== 200) throttled = answer;
    }
    assert.ok(throttled, 'throttled');
    assert.equal(refusal(throttled), '429 rate_limited passkey_options_throttled');
    assert.ok(Number(throttled.response.headers.get('retry-after')) >= 1);

    // Events of the stream (operators see every project's and none-project events).
    const events = await json(
      'GET',
      '/v1/events?type=user.passkey_added,user.passkey_deleted,session.created&limit=500',
      {
        token: tcp.secrets.operatorToken,
      },
    );
    const types = (events.body.events as Array<{ type: string; data: { second_factor?: string } }>).map((e) =>
      e.type === 'session.created' ? `session.created:${e.data.second_factor}` : e.type,
    );
    assert.ok(types.includes('user.passkey_added'), types.join(','));
    assert.ok(types.includes('user.passkey_deleted'), types.join(','));
    assert.ok(types.includes('session.created:passkey'), types.join(','));
  });
