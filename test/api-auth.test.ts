/**
 * People and console sessions over real HTTP (docs/adr/0010-console-auth.md): the first owner's one-time
 * link, password + TOTP sign-in with replay refused, recovery codes used once, CSRF on cookie mutations,
 * throttling, sessions listed and revoked, a viewer refused like a viewer token, and the console's files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestControlPlane, testDialects } from './helpers.ts';
import { base32Decode, totpAt } from '../src/identity/index.ts';

const cheapCost = { ln: 10, r: 8, p: 1 };

interface Jar {
  cookie: string;
  csrf: string;
}

function jarOf(response: Response): Jar {
  const cookies = response.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0];
  return { cookie: `${value('vmc_session')}; ${value('vmc_csrf')}`, csrf: value('vmc_csrf').split('=')[1] };
}

for (const dialect of testDialects())
  test(`console auth (${dialect}): link, password, TOTP, CSRF, sessions, throttling, viewer`, async (t) => {
    const consoleDir = mkdtempSync(join(tmpdir(), 'vmcloud-console-'));
    mkdirSync(join(consoleDir, 'assets'));
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>VMCloud</title>');
    writeFileSync(join(consoleDir, 'assets', 'app-abc123.js'), 'console.log(1)');
    const tcp = await startTestControlPlane(dialect, { passwordHashCost: cheapCost, consoleDir });
    t.after(async () => {
      await tcp.dispose();
      rmSync(consoleDir, { recursive: true, force: true });
    });
    const json = async (
      method: string,
      path: string,
      options: { jar?: Jar; body?: unknown; headers?: Record<string, string> } = {},
    ) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.jar) {
        headers.cookie = options.jar.cookie;
        headers['x-csrf-token'] ??= options.jar.csrf;
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
    const password = 'a long and sturdy passphrase';
    const email = tcp.secrets.ownerSignIn.email;

    const token = tcp.secrets.ownerSignIn.path.split('#token=')[1];
    await t.test('the first owner sets a password through the one-time link and is signed in', async () => {
      assert.match(tcp.secrets.ownerSignIn.path, /^\/reset#token=vml_/);
      const weak = await json('POST', '/v1/auth/links/redeem', { body: { token, password: 'aaaaaaaaaaaaaaa' } });
      assert.equal(weak.status, 400);
      assert.equal(weak.body.reason, 'weak_password');
      const redeemed = await json('POST', '/v1/auth/links/redeem', { body: { token, password } });
      assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
      assert.equal(redeemed.body.project.role, 'owner');
      const cookies = redeemed.response.headers.getSetCookie();
      assert.ok(cookies.some((c) => /^vmc_session=vms_.*HttpOnly/.test(c) && /SameSite=Lax/.test(c)));
      assert.ok(cookies.some((c) => /^vmc_csrf=/.test(c) && !/HttpOnly/.test(c)));
      const again = await json('POST', '/v1/auth/links/redeem', { body: { token, password } });
      assert.equal(again.status, 401);
      assert.equal(again.body.reason, 'link_invalid');
    });

    let jar!: Jar;
    await t.test('password sign-in; the session reads the API as the owner token does', async () => {
      const wrong = await json('POST', '/v1/auth/login', { body: { email, password: 'not the password!' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.reason, 'bad_credentials');
      const ok = await json('POST', '/v1/auth/login', { body: { email: 'Owner@VMCloud.local', password } });
      assert.equal(ok.status, 200);
      jar = jarOf(ok.response);
      const servers = await json('GET', '/v1/servers', { jar });
      assert.equal(servers.status, 200);
      const me = await json('GET', '/v1/auth/session', { jar });
      assert.equal(me.body.via, 'session');
      assert.equal(me.body.user.email, email);
      assert.equal(me.body.project.role, 'owner');
      const viaToken = await tcp.call('GET', '/v1/auth/session');
      assert.equal(viaToken.body.via, 'token');
    });

    await t.test('cookie mutations need the CSRF token and this origin', async () => {
      const body = { name: 'csrf-1', product: 'vps-nano', region: 'fra1', image: 'debian-12' };
      const missing = await json('POST', '/v1/servers', { jar, body, headers: { 'x-csrf-token': '' } });
      assert.equal(missing.status, 403);
      assert.equal(missing.body.reason, 'csrf');
      const wrongToken = await json('POST', '/v1/servers', { jar, body, headers: { 'x-csrf-token': 'forged' } });
      assert.equal(wrongToken.status, 403);
      const foreign = await json('POST', '/v1/servers', { jar, body, headers: { origin: 'https://evil.example' } });
      assert.equal(foreign.status, 403);
      const good = await json('POST', '/v1/servers', { jar, body, headers: { origin: tcp.url } });
      assert.equal(good.status, 202, JSON.stringify(good.body));
    });

    let secret!: Buffer;
    let recoveryCodes!: string[];
    await t.test('TOTP enrolment: a code of the new secret turns it on and gives ten recovery codes', async () => {
      const begun = await json('POST', '/v1/auth/totp', { jar });
      assert.equal(begun.status, 200);
      assert.match(begun.body.otpauth_uri, /^otpauth:\/\/totp\/VMCloud(:|%3A)owner%40vmcloud\.local\?secret=/);
      secret = base32Decode(begun.body.secret);
      const bad = await json('POST', '/v1/auth/totp/verify', {
        jar,
        body: { code: '000000' === totpAt(secret, Date.now()) ? '111111' : '000000' },
      });
      assert.equal(bad.status, 400);
      const verified = await json('POST', '/v1/auth/totp/verify', { jar, body: { code: totpAt(secret, Date.now()) } });
      assert.equal(verified.status, 200);
      recoveryCodes = verified.body.recovery_codes;
      assert.equal(recoveryCodes.length, 10);
      const byToken = await tcp.call('POST', '/v1/auth/totp');
      assert.equal(byToken.status, 403);
      assert.equal(byToken.body.reason, 'session_required');
    });

    await t.test('sign-in asks for the code; a code works once; a recovery code works once', async () => {
      const noCode = await json('POST', '/v1/auth/login', { body: { email, password } });
      assert.equal(noCode.status, 401);
      assert.equal(noCode.body.reason, 'totp_required');
      // The step used at enrolment cannot sign in again: wait for the next step's code.
      const step = Math.floor(Date.now() / 30_000);
      const nextCode = totpAt(secret, (step + 1) * 30_000);
      const first = await json('POST', '/v1/auth/login', { body: { email, password, totp_code: nextCode } });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.session.second_factor, 'totp');
      const replay = await json('POST', '/v1/auth/login', { body: { email, password, totp_code: nextCode } });
      assert.equal(replay.status, 401);
      assert.equal(replay.body.reason, 'totp_replayed');
      const recovered = await json('POST', '/v1/auth/login', {
        body: { email, password, recovery_code: recoveryCodes[0].toUpperCase() },
      });
      assert.equal(recovered.status, 200);
      const reused = await json('POST', '/v1/auth/login', {
        body: { email, password, recovery_code: recoveryCodes[0] },
      });
      assert.equal(reused.status, 401);
      assert.equal(reused.body.reason, 'totp_invalid');
    });

    await t.test('sessions are listed and revoked; a revoked cookie no longer authenticates', async () => {
      const listed = await json('GET', '/v1/auth/sessions', { jar });
      assert.ok(listed.body.sessions.length >= 3);
      assert.equal(listed.body.sessions.filter((s: { current: boolean }) => s.current).length, 1);
      const other = listed.body.sessions.find((s: { current: boolean }) => !s.current);
      assert.equal((await json('DELETE', `/v1/auth/sessions/${other.id}`, { jar })).status, 204);
      assert.equal((await json('DELETE', `/v1/auth/sessions/${other.id}`, { jar })).status, 404);
      const logout = await json('POST', '/v1/auth/logout', { jar });
      assert.equal(logout.status, 204);
      assert.ok(logout.response.headers.getSetCookie().some((c) => /^vmc_session=;.*Max-Age=0/.test(c)));
      const after = await json('GET', '/v1/servers', { jar });
      assert.equal(after.status, 401);
      assert.equal(after.body.reason, 'session_expired');
    });

    await t.test('an operator adds a viewer; the viewer session is refused mutations with 403', async () => {
      const created = await tcp.call('POST', '/v1/users', {
        token: tcp.secrets.operatorToken,
        body: { email: 'viewer@example.com', project_id: tcp.secrets.projectId, role: 'viewer' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.link.purpose, 'set_password');
      const byOwner = await tcp.call('POST', '/v1/users', {
        body: { email: 'x@example.com', project_id: tcp.secrets.projectId, role: 'viewer' },
      });
      assert.equal(byOwner.status, 403);
      const viewerToken = created.body.link.path.split('#token=')[1];
      const redeemed = await json('POST', '/v1/auth/links/redeem', { body: { token: viewerToken, password } });
      assert.equal(redeemed.body.project.role, 'viewer');
      const viewer = jarOf(redeemed.response);
      const servers = await json('GET', '/v1/servers', { jar: viewer });
      const target = servers.body.servers[0];
      const refused = await json('DELETE', `/v1/servers/${target.id}`, { jar: viewer });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, 'forbidden');
    });

    await t.test('failed sign-ins of one account are throttled with Retry-After', async () => {
      let last = null as Awaited<ReturnType<typeof json>> | null;
      for (let i = 0; i < 11; i++)
        last = await json('POST', '/v1/auth/login', {
          body: { email: 'viewer@example.com', password: `wrong password ${i}` },
        });
      assert.equal(last!.status, 429);
      assert.equal(last!.body.reason, 'login_throttled');
      assert.ok(Number(last!.response.headers.get('retry-after')) > 0);
    });

    await t.test('the console: files with cache headers, the single-page fallback, API paths stay 404', async () => {
      const asset = await fetch(`${tcp.url}/assets/app-abc123.js`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      const page = await fetch(`${tcp.url}/servers/srv_123`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('cache-control'), 'no-cache');
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      const html = await page.text();
      assert.match(html, /<title>VMCloud/);
      // Each page load gets its own style nonce, in the CSP (style elements only) and in the page.
      const nonce = /style-src-elem 'self' 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      assert.ok(nonce, csp);
      assert.ok(html.includes(`<meta property="csp-nonce" nonce="${nonce}" />`), html);
      const again = (await fetch(`${tcp.url}/`)).headers.get('content-security-policy') ?? '';
      assert.doesNotMatch(again, new RegExp(`nonce-${nonce.replace(/[+/=]/g, '\\$&')}`), 'a fresh nonce');
      assert.match(asset.headers.get('content-security-policy') ?? '', /^default-src 'self'/);
      const api = await fetch(`${tcp.url}/v1/nothing-here`);
      assert.equal(api.status, 404);
      assert.match(api.headers.get('content-type') ?? '', /problem\+json/);
      assert.equal((await fetch(`${tcp.url}/assets/missing.js`)).status, 404);
      // A path that climbs out of the console's folder gets the app, never the file.
      assert.doesNotMatch(await (await fetch(`${tcp.url}/..%2f..%2f..%2fetc%2fpasswd`)).text(), /root:/);
    });
  });
