/**
 * Project members over real HTTP (docs/console.md, "Members and invitations"; issue 16): an owner changes
 * a member's role and removes a member; members and viewers are refused (403), another project's owner
 * gets 404; the last owner can neither be demoted nor removed (409 `last_owner`); a demoted member's tokens
 * above the new role and a removed member's sessions and tokens stop working at once. A signed-in session
 * moves to another project of its user (`POST /v1/auth/session/project`), never to a project of others.
 * Every change is an event of the stream and an audit entry; refusals change nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects } from './helpers.ts';

const cheapCost = { ln: 10, r: 8, p: 1 };
const password = 'a long and sturdy passphrase';

type Jar = { cookie: string; csrf: string };

function jarOf(response: Response): Jar {
  const cookies = response.headers.getSetCookie();
  const value = (name: string) => cookies.find((c) => c.startsWith(`${name}=`))!.split(';')[0];
  return { cookie: `${value('vmc_session')}; ${value('vmc_csrf')}`, csrf: value('vmc_csrf').split('=')[1] };
}

for (const dialect of testDialects())
  test(`project members (${dialect}): role changes, removal, the last owner, project switching`, async (t) => {
    const tcp = await startTestControlPlane(dialect, { passwordHashCost: cheapCost });
    t.after(() => tcp.dispose());
    const projectId = tcp.secrets.projectId;
    const json = async (
      method: string,
      path: string,
      options: { token?: string | null; jar?: Jar; csrf?: boolean; body?: unknown } = {},
    ) => {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.jar) {
        headers.cookie = options.jar.cookie;
        if (options.csrf !== false) headers['x-csrf-token'] = options.jar.csrf;
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
    const owner = tcp.secrets.projectToken;
    const operator = tcp.secrets.operatorToken;
    const members = `/v1/projects/${projectId}/members`;
    const roles = async () =>
      Object.fromEntries(
        ((await json('GET', members, { token: owner })).body.members as Array<{ email: string; role: string }>).map(
          (m) => [m.email, m.role],
        ),
      );
    /** A person added by an operator to `project` with `role`, signed in through their link. */
    const person = async (email: string, role: string, project = projectId) => {
      const created = await json('POST', '/v1/users', { token: operator, body: { email, project_id: project, role } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const token = (created.body.link.path as string).split('#token=')[1];
      const redeemed = await json('POST', '/v1/auth/links/redeem', { body: { token, password } });
      assert.equal(redeemed.status, 200, JSON.stringify(redeemed.body));
      return { id: created.body.user.id as string, jar: jarOf(redeemed.response) };
    };
    const tokenOf = async (role: string, by: { token?: string; jar?: Jar } = { token: owner }) => {
      const created = await json('POST', '/v1/tokens', { ...by, body: { name: `t-${role}`, role } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body.secret as string;
    };
    const memberToken = await tokenOf('member');
    const viewerToken = await tokenOf('viewer');
    const alice = await person('alice@example.com', 'member');
    const bob = await person('bob@example.com', 'viewer');
    const ownerUserId = (
      (await json('GET', members, { token: owner })).body.members as Array<{ user_id: string; email: string }>
    ).find((m) => m.email === tcp.secrets.ownerSignIn.email)!.user_id;

    await t.test('refusals: roles 403, another project 404, bad input 400, not a member 404', async () => {
      for (const [caller, options] of [
        ['member token', { token: memberToken }],
        ['viewer token', { token: viewerToken }],
        ['member session', { jar: alice.jar }],
      ] as const) {
        const patch = await json('PATCH', `${members}/${bob.id}`, { ...options, body: { role: 'owner' } });
        assert.equal(patch.status, 403, `${caller} PATCH`);
        assert.equal(patch.body.code, 'forbidden');
        const remove = await json('DELETE', `${members}/${bob.id}`, options);
        assert.equal(remove.status, 403, `${caller} DELETE`);
      }
      const other = await json('POST', '/v1/projects', {
        token: operator,
        body: { name: 'other tenant', owner_email: 'other-owner@example.com' },
      });
      assert.equal(other.status, 201);
      const otherOwner = other.body.secret as string;
      const cross = await json('PATCH', `${members}/${bob.id}`, { token: otherOwner, body: { role: 'owner' } });
      assert.equal(cross.status, 404, 'another project: 404, never 403');
      assert.equal((await json('DELETE', `${members}/${bob.id}`, { token: otherOwner })).status, 404);
      const crossOwn = await json('DELETE', `/v1/projects/${other.body.project_id}/members/${bob.id}`, {
        token: otherOwner,
      });
      assert.equal(crossOwn.status, 404, 'bob is no member of the other project');
      assert.equal(crossOwn.body.code, 'not_found');
      const badRole = await json('PATCH', `${members}/${bob.id}`, { token: owner, body: { role: 'admin' } });
      assert.equal(badRole.status, 400);
      assert.equal(badRole.body.code, 'invalid');
      const unknown = await json('PATCH', `${members}/usr_nobody`, { token: owner, body: { role: 'viewer' } });
      assert.equal(unknown.status, 404);
      assert.deepEqual(await roles(), {
        [tcp.secrets.ownerSignIn.email]: 'owner',
        'alice@example.com': 'member',
        'bob@example.com': 'viewer',
      });
    });

    await t.test('the last owner can neither be demoted nor removed', async () => {
      const demote = await json('PATCH', `${members}/${ownerUserId}`, { token: owner, body: { role: 'member' } });
      assert.equal(demote.status, 409, JSON.stringify(demote.body));
      assert.equal(demote.body.reason, 'last_owner');
      const remove = await json('DELETE', `${members}/${ownerUserId}`, { token: owner });
      assert.equal(remove.status, 409);
      assert.equal(remove.body.reason, 'last_owner');
      assert.equal((await roles())[tcp.secrets.ownerSignIn.email], 'owner', 'nothing changed');
    });

    await t.test('promote, then demote: the session follows, tokens above the new role are revoked', async () => {
      const promoted = await json('PATCH', `${members}/${alice.id}`, { token: owner, body: { role: 'owner' } });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.equal(promoted.body.member.role, 'owner');
      assert.equal(promoted.body.member.email, 'alice@example.com');
      assert.equal((await json('GET', members, { jar: alice.jar })).status, 200, 'her session is an owner at once');
      const aliceOwnerToken = await tokenOf('owner', { jar: alice.jar });
      const aliceViewerToken = await tokenOf('viewer', { jar: alice.jar });
      // Two owners now: the first owner may step down, and back (alice is an owner meanwhile).
      const same = await json('PATCH', `${members}/${alice.id}`, { token: owner, body: { role: 'owner' } });
      assert.equal(same.status, 200, 'the same role: nothing to do');
      const demoted = await json('PATCH', `${members}/${alice.id}`, { jar: alice.jar, body: { role: 'viewer' } });
      assert.equal(demoted.status, 200, 'an owner may demote herself while another owner remains');
      assert.equal(demoted.body.member.role, 'viewer');
      assert.equal((await json('GET', members, { jar: alice.jar })).status, 403, 'her session is a viewer now');
      assert.equal((await json('GET', '/v1/servers', { jar: alice.jar })).status, 200, 'and still reads');
      assert.equal((await json('GET', '/v1/servers', { token: aliceOwnerToken })).status, 401, 'owner token revoked');
      assert.equal((await json('GET', '/v1/servers', { token: aliceViewerToken })).status, 200, 'viewer token kept');
      assert.equal((await json('GET', '/v1/servers', { token: memberToken })).status, 200, "others' tokens kept");
      assert.equal((await roles())['alice@example.com'], 'viewer');
    });

    await t.test('removing a member revokes their sessions and tokens in the project, not elsewhere', async () => {
      const bobToken = await json('POST', '/v1/tokens', { jar: bob.jar, body: { name: 'x', role: 'viewer' } });
      assert.equal(bobToken.status, 403, 'a viewer makes no tokens (nothing to revoke but the session)');
      assert.equal((await json('GET', '/v1/servers', { jar: bob.jar })).status, 200);
      // Bob owns a project of his own: a token and a session there.
      const elsewhere = await json('POST', '/v1/projects', {
        token: operator,
        body: { name: 'bobs', owner_email: 'bob@example.com' },
      });
      assert.equal(elsewhere.status, 201, JSON.stringify(elsewhere.body));
      const bobsToken = elsewhere.body.secret as string;
      const bobsLogin = await json('POST', '/v1/auth/login', {
        body: { email: 'bob@example.com', password, project_id: elsewhere.body.project_id },
      });
      assert.equal(bobsLogin.status, 200, JSON.stringify(bobsLogin.body));
      const bobsJar = jarOf(bobsLogin.response);
      const removed = await json('DELETE', `${members}/${bob.id}`, { token: owner });
      assert.equal(removed.status, 204, JSON.stringify(removed.body));
      const after = await json('GET', '/v1/servers', { jar: bob.jar });
      assert.equal(after.status, 401, 'the session ended');
      const sessions = await tcp.cp.db
        .selectFrom('sessions')
        .select(['project_id', 'revoked_at'])
        .where('user_id', '=', bob.id)
        .execute();
      const inProject = sessions.filter((row) => row.project_id === projectId);
      assert.ok(inProject.length > 0 && inProject.every((row) => row.revoked_at !== null), 'revoked, not only refused');
      assert.equal((await json('GET', '/v1/servers', { jar: bobsJar })).status, 200, 'his session elsewhere stays');
      assert.equal((await json('GET', '/v1/servers', { token: bobsToken })).status, 200, 'his token elsewhere too');
      const again = await json('DELETE', `${members}/${bob.id}`, { token: owner });
      assert.equal(again.status, 404, 'not a member any more');
      const login = await json('POST', '/v1/auth/login', {
        body: { email: 'bob@example.com', password, project_id: projectId },
      });
      assert.equal(login.status, 403, 'no signing in to the project he left');
      assert.equal(login.body.reason, 'no_project');
      assert.ok(!('bob@example.com' in (await roles())));
    });

    await t.test('a session moves to another project of its user, never to another', async () => {
      // The first owner is an owner of a second project too.
      const second = await json('POST', '/v1/projects', {
        token: operator,
        body: { name: 'second', owner_email: tcp.secrets.ownerSignIn.email },
      });
      assert.equal(second.status, 201, JSON.stringify(second.body));
      const secondId = second.body.project_id as string;
      const stranger = await json('POST', '/v1/projects', {
        token: operator,
        body: { name: 'stranger', owner_email: 'stranger@example.com' },
      });
      const ownerLink = tcp.secrets.ownerSignIn.path.split('#token=')[1];
      const signedIn = await json('POST', '/v1/auth/links/redeem', { body: { token: ownerLink, password } });
      assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
      const jar = jarOf(signedIn.response);
      const session = await json('GET', '/v1/auth/session', { jar });
      assert.deepEqual(
        session.body.projects.map((p: { id: string; role: string }) => [p.id, p.role]),
        [
          [projectId, 'owner'],
          [secondId, 'owner'],
        ],
      );
      const noCsrf = await json('POST', '/v1/auth/session/project', {
        jar,
        csrf: false,
        body: { project_id: secondId },
      });
      assert.equal(noCsrf.status, 403);
      assert.equal(noCsrf.body.reason, 'csrf');
      const withToken = await json('POST', '/v1/auth/session/project', {
        token: owner,
        body: { project_id: secondId },
      });
      assert.equal(withToken.status, 403);
      assert.equal(withToken.body.reason, 'session_required');
      for (const other of [stranger.body.project_id, 'prj_unknown']) {
        const refused = await json('POST', '/v1/auth/session/project', { jar, body: { project_id: other } });
        assert.equal(refused.status, 404, other);
      }
      assert.equal((await json('GET', '/v1/auth/session', { jar })).body.project.id, projectId, 'not moved');

      const moved = await json('POST', '/v1/auth/session/project', { jar, body: { project_id: secondId } });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      assert.equal(moved.body.project.id, secondId);
      assert.equal(moved.body.project.name, 'second');
      assert.equal(moved.body.session.project_id, secondId);
      const now = await json('GET', '/v1/auth/session', { jar });
      assert.equal(now.body.project.id, secondId, 'the same cookie acts in the second project');
      const secondMembers = await json('GET', `/v1/projects/${secondId}/members`, { jar });
      assert.equal(secondMembers.status, 200);
      assert.equal((await json('GET', members, { jar })).status, 404, 'the first project is another project now');
      const back = await json('POST', '/v1/auth/session/project', { jar, body: { project_id: projectId } });
      assert.equal(back.status, 200);
      assert.equal((await json('GET', members, { jar })).status, 200);

      const events = await tcp.cp.db
        .selectFrom('events')
        .select(['type', 'project_id'])
        .where('type', '=', 'session.project_changed')
        .orderBy('seq')
        .execute();
      assert.deepEqual(
        events.map((e) => e.project_id),
        [secondId, projectId],
      );
    });

    await t.test('events through the outbox and audit entries', async () => {
      const deadline = Date.now() + 10_000;
      let types: string[] = [];
      while (Date.now() < deadline) {
        const page = await json('GET', '/v1/events?type=member.role_changed,member.removed', { token: owner });
        types = page.body.events.map((e: { type: string }) => e.type);
        if (types.includes('member.removed')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(types, ['member.role_changed', 'member.role_changed', 'member.removed']);
      const revoked = await json('GET', '/v1/events?type=session.revoked,token.revoked', { token: owner });
      assert.ok(
        revoked.body.events.some(
          (e: { type: string; data: { reason?: string } }) =>
            e.type === 'session.revoked' && e.data.reason === 'member_removed',
        ),
        JSON.stringify(revoked.body.events),
      );
      assert.ok(revoked.body.events.some((e: { type: string }) => e.type === 'token.revoked'));
      const audit = await json('GET', '/v1/audit-log?limit=500', { token: owner });
      const actions = audit.body.entries.map((e: { action: string; outcome: string }) => `${e.action} ${e.outcome}`);
      assert.ok(actions.includes('PATCH /v1/projects/:id/members/:user_id success'), actions.join('\n'));
      assert.ok(actions.includes('PATCH /v1/projects/:id/members/:user_id failure'), 'refusals are audited too');
      assert.ok(actions.includes('DELETE /v1/projects/:id/members/:user_id success'));
    });

    await t.test('two owners demoted at once: one wins, the other is then the last owner (409)', async () => {
      const promoted = await json('PATCH', `${members}/${alice.id}`, { token: owner, body: { role: 'owner' } });
      assert.equal(promoted.status, 200);
      // Straight to the service, twice at once, as an owner whose own membership is not at stake.
      const people = tcp.cp.services.people;
      const principal = { kind: 'project', tokenId: 'tok_race', userId: null, projectId, role: 'owner' } as const;
      const outcomes = await Promise.allSettled([
        people.setMemberRole(principal, projectId, ownerUserId, 'member'),
        people.setMemberRole(principal, projectId, alice.id, 'member'),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected'], JSON.stringify(outcomes));
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.equal(refused.reason.reason, 'last_owner');
      const rows = await tcp.cp.db
        .selectFrom('memberships')
        .select(['user_id', 'role'])
        .where('project_id', '=', projectId)
        .where('user_id', 'in', [ownerUserId, alice.id])
        .execute();
      assert.deepEqual(rows.map((r) => r.role).sort(), ['member', 'owner'], 'exactly one owner left');
    });
  });
