/**
 * Project invitations over real HTTP (docs/console.md, "Members and invitations"): an owner invites, the
 * link is shown once and stored hashed; members and viewers are refused; bad input and an existing member
 * are refused with stable codes and change nothing; a new person accepts with a password and is signed in
 * to the project; a known user accepts with their password (or signed in); used, revoked and expired links
 * are refused; every change is an event of the stream and an audit entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestControlPlane, testDialects } from './helpers.ts';

const cheapCost = { ln: 10, r: 8, p: 1 };
const password = 'a long and sturdy passphrase';

function jarOf(response: Response) {
  const cookies = response.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0];
  return { cookie: `${value('vmc_session')}; ${value('vmc_csrf')}`, csrf: value('vmc_csrf').split('=')[1] };
}

for (const dialect of testDialects())
  test(`project invitations (${dialect}): invite, list, revoke, accept; roles, codes, events, audit`, async (t) => {
    const tcp = await startTestControlPlane(dialect, { passwordHashCost: cheapCost });
    t.after(() => tcp.dispose());
    const projectId = tcp.secrets.projectId;
    const json = async (
      method: string,
      path: string,
      options: { token?: string | null; jar?: { cookie: string; csrf: string }; body?: unknown } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.jar) Object.assign(headers, { cookie: options.jar.cookie, 'x-csrf-token': options.jar.csrf });
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(tcp.url + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
      const text = await response.text();
      return { response, status: response.status, body: text ? JSON.parse(text) : null };
    };
    const owner = tcp.secrets.projectToken;
    const tokenOf = async (role: string) =>
      (await json('POST', '/v1/tokens', { token: owner, body: { name: `t-${role}`, role } })).body.secret as string;
    const member = await tokenOf('member');
    const viewer = await tokenOf('viewer');
    const invitations = `/v1/projects/${projectId}/invitations`;
    const pending = async () =>
      (await json('GET', invitations, { token: owner })).body.invitations as Array<{
        id: string;
        email: string;
        role: string;
      }>;

    let newcomerToken = '';
    let newcomerInvitation = '';
    await t.test('an owner invites: 201, the link once, stored only as its SHA-256', async () => {
      const created = await json('POST', invitations, {
        token: owner,
        body: { email: 'New.Person@Example.com', role: 'member' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.path, /^\/invite#token=vmi_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.invitation.email, 'new.person@example.com');
      assert.equal(created.body.invitation.role, 'member');
      const expires = Date.parse(created.body.invitation.expires_at) - Date.parse(created.body.invitation.created_at);
      assert.equal(expires, 7 * 86_400_000);
      newcomerToken = created.body.path.split('#token=')[1];
      newcomerInvitation = created.body.invitation.id;
      const row = await tcp.cp.db
        .selectFrom('project_invitations')
        .selectAll()
        .where('id', '=', newcomerInvitation)
        .executeTakeFirstOrThrow();
      assert.equal(row.secret_hash, createHash('sha256').update(newcomerToken).digest('hex'));
      assert.ok(!JSON.stringify(await pending()).includes(newcomerToken), 'the list never shows the link');
      assert.deepEqual(
        (await pending()).map((i) => i.email),
        ['new.person@example.com'],
      );
    });

    await t.test('refusals: roles 403, another project 404, bad input 400, member or pending 409', async () => {
      for (const token of [member, viewer]) {
        for (const [method, path, body] of [
          ['POST', invitations, { email: 'x@example.com', role: 'viewer' }],
          ['GET', invitations, undefined],
          ['GET', `/v1/projects/${projectId}/members`, undefined],
          ['DELETE', `${invitations}/${newcomerInvitation}`, undefined],
        ] as const) {
          const refused = await json(method, path, { token, body });
          assert.equal(refused.status, 403, `${method} ${path}`);
          assert.equal(refused.body.code, 'forbidden');
        }
      }
      const other = await json('GET', '/v1/projects/prj_someoneelse/invitations', { token: owner });
      assert.equal(other.status, 404);
      const badEmail = await json('POST', invitations, {
        token: owner,
        body: { email: 'not-an-email', role: 'member' },
      });
      assert.equal(badEmail.status, 400);
      assert.equal(badEmail.body.code, 'invalid');
      const badRole = await json('POST', invitations, {
        token: owner,
        body: { email: 'y@example.com', role: 'admin' },
      });
      assert.equal(badRole.status, 400);
      assert.equal(badRole.body.code, 'invalid');
      const existing = await json('POST', invitations, {
        token: owner,
        body: { email: tcp.secrets.ownerSignIn.email, role: 'viewer' },
      });
      assert.equal(existing.status, 409);
      assert.equal(existing.body.reason, 'already_member');
      const twice = await json('POST', invitations, {
        token: owner,
        body: { email: 'new.person@example.com', role: 'viewer' },
      });
      assert.equal(twice.status, 409);
      assert.equal(twice.body.reason, 'already_invited');
      assert.equal((await pending()).length, 1, 'nothing was added by a refusal');
    });

    await t.test('a new person accepts with a password: a user, a member, signed in to the project', async () => {
      const noPassword = await json('POST', '/v1/invitations/accept', { body: { token: newcomerToken } });
      assert.equal(noPassword.status, 400);
      assert.equal(noPassword.body.reason, 'password_required');
      const weak = await json('POST', '/v1/invitations/accept', {
        body: { token: newcomerToken, password: 'aaaaaaaaaaaaaaaa' },
      });
      assert.equal(weak.status, 400);
      assert.equal(weak.body.reason, 'weak_password');
      const unknown = await json('POST', '/v1/invitations/accept', {
        body: { token: `vmi_${'A'.repeat(43)}`, password },
      });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.reason, 'invitation_invalid');
      const users = await tcp.cp.db.selectFrom('users').select('email').execute();
      assert.ok(!users.some((u) => u.email === 'new.person@example.com'), 'no user before acceptance');

      const accepted = await json('POST', '/v1/invitations/accept', { body: { token: newcomerToken, password } });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body.project.id, projectId);
      assert.equal(accepted.body.project.role, 'member');
      assert.equal(accepted.body.user.email, 'new.person@example.com');
      const jar = jarOf(accepted.response);
      const servers = await json('GET', '/v1/servers', { jar });
      assert.equal(servers.status, 200, 'the session reads the project');
      const login = await json('POST', '/v1/auth/login', { body: { email: 'new.person@example.com', password } });
      assert.equal(login.status, 200, 'the password works for signing in');
      const members = await json('GET', `/v1/projects/${projectId}/members`, { token: owner });
      assert.deepEqual(
        members.body.members.map((m: { email: string; role: string }) => [m.email, m.role]),
        [
          [tcp.secrets.ownerSignIn.email, 'owner'],
          ['new.person@example.com', 'member'],
        ],
      );
      assert.deepEqual(await pending(), [], 'accepted is not pending');
      const again = await json('POST', '/v1/invitations/accept', { body: { token: newcomerToken, password } });
      assert.equal(again.status, 401);
      assert.equal(again.body.reason, 'invitation_used');
    });

    await t.test('a known user: password (wrong refused), or signed in without one', async () => {
      const other = await json('POST', '/v1/projects', {
        token: tcp.secrets.operatorToken,
        body: { name: 'second', owner_email: 'second-owner@example.com' },
      });
      assert.equal(other.status, 201, JSON.stringify(other.body));
      const secondOwner = other.body.secret as string;
      const secondInvitations = `/v1/projects/${other.body.project_id}/invitations`;
      const invite = async (role: string) => {
        const created = await json('POST', secondInvitations, {
          token: secondOwner,
          body: { email: 'new.person@example.com', role },
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        return created.body as { invitation: { id: string }; path: string };
      };
      const first = await invite('viewer');
      const token = first.path.split('#token=')[1];
      const none = await json('POST', '/v1/invitations/accept', { body: { token } });
      assert.equal(none.status, 400);
      assert.equal(none.body.reason, 'account_password_required', 'a known account: its password, not a new one');
      const wrong = await json('POST', '/v1/invitations/accept', { body: { token, password: 'not the password!!' } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.reason, 'bad_credentials');
      // Revoked: the link stops working, nothing changes.
      const revoked = await json('DELETE', `${secondInvitations}/${first.invitation.id}`, { token: secondOwner });
      assert.equal(revoked.status, 204);
      const revokedTwice = await json('DELETE', `${secondInvitations}/${first.invitation.id}`, { token: secondOwner });
      assert.equal(revokedTwice.status, 409);
      assert.equal(revokedTwice.body.reason, 'invitation_revoked');
      const afterRevoke = await json('POST', '/v1/invitations/accept', { body: { token, password } });
      assert.equal(afterRevoke.status, 401);
      assert.equal(afterRevoke.body.reason, 'invitation_revoked');
      // Expired (the row's expiry moved to the past).
      const second = await invite('viewer');
      await tcp.cp.db
        .updateTable('project_invitations')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('id', '=', second.invitation.id)
        .execute();
      const expired = await json('POST', '/v1/invitations/accept', {
        body: { token: second.path.split('#token=')[1], password },
      });
      assert.equal(expired.status, 401);
      assert.equal(expired.body.reason, 'invitation_expired');
      const stillOne = await tcp.cp.db
        .selectFrom('memberships')
        .select('project_id')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .where('users.email', '=', 'new.person@example.com')
        .execute();
      assert.equal(stillOne.length, 1, 'refused acceptances added no membership');
      // Signed in as the invited user (cookie + CSRF token): no password needed.
      const third = await invite('owner');
      const signedIn = await json('POST', '/v1/auth/login', { body: { email: 'new.person@example.com', password } });
      const jar = jarOf(signedIn.response);
      const accepted = await json('POST', '/v1/invitations/accept', {
        jar,
        body: { token: third.path.split('#token=')[1] },
      });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body.project.id, other.body.project_id);
      assert.equal(accepted.body.project.role, 'owner');
      const session = await json('GET', '/v1/auth/session', { jar: jarOf(accepted.response) });
      assert.equal(session.body.projects.length, 2, 'a member of both projects');
    });

    await t.test('events through the outbox and audit entries', async () => {
      const deadline = Date.now() + 10_000;
      let types: string[] = [];
      while (Date.now() < deadline) {
        const page = await json('GET', '/v1/events?type=invitation.created,invitation.accepted,invitation.revoked', {
          token: owner,
        });
        types = page.body.events.map((e: { type: string }) => e.type);
        if (types.includes('invitation.accepted')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(types, ['invitation.created', 'invitation.accepted']);
      const audit = await json('GET', '/v1/audit-log?limit=500', { token: owner });
      const actions = audit.body.entries.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`);
      assert.ok(actions.includes('POST /v1/projects/:id/invitations success'), actions.join('\n'));
      assert.ok(actions.includes('POST /v1/projects/:id/invitations failure'), 'refusals are audited too');
    });
  });
