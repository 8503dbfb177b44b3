/**
 * `vmcloud project invite|invitations|revoke-invitation|members|member set-role|member remove` against the
 * real control plane.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud project invitations (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[], token = t.secrets.projectToken) => runCliAgainst(t, argv, { token: token });
    before(async () => {
      t = await startTestControlPlane(dialect, { passwordHashCost: { ln: 10, r: 8, p: 1 } });
    });
    after(async () => {
      await t?.dispose();
    });

    test('invite prints the link once; invitations lists it; the link works; revoke; errors exit non-zero', async () => {
      let r = await cli(['project', 'invite', 'carol@example.com', '--role', 'viewer']);
      assert.equal(r.code, 0, r.stderr);
      const link = /(http\S+\/invite#token=(vmi_\S+))/.exec(r.stdout);
      assert.ok(link, r.stdout);
      assert.ok(link[1].startsWith(t.url), 'the link is on the API address');
      const id = /invitation (ivt_\w+)/.exec(r.stdout)![1];

      r = await cli(['project', 'invitations']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${id}\\s+carol@example.com\\s+viewer`));
      assert.ok(!r.stdout.includes(link[2]), 'the list never shows the link');

      r = await cli(['project', 'invite', 'carol@example.com', '--role', 'member']);
      assert.notEqual(r.code, 0, 'a pending invitation is not duplicated');
      assert.match(r.stderr, /pending invitation/);
      r = await cli(['project', 'invite', 'dave@example.com', '--role', 'admin']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /--role/);
      r = await cli(['project', 'invite', 'not-an-email']);
      assert.notEqual(r.code, 0);

      const accepted = await t.call('POST', '/v1/invitations/accept', {
        token: null,
        body: { token: link[2], password: 'a long and sturdy passphrase' },
      });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      r = await cli(['project', 'members', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout).map((m: { email: string; role: string }) => `${m.email} ${m.role}`),
        ['owner@vmcloud.local owner', 'carol@example.com viewer'],
      );

      r = await cli(['project', 'invite', 'erin@example.com', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const erin = JSON.parse(r.stdout);
      assert.equal(erin.invitation.role, 'member', 'member by default');
      r = await cli(['project', 'revoke-invitation', erin.invitation.id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /revoked/);
      r = await cli(['project', 'revoke-invitation', erin.invitation.id]);
      assert.notEqual(r.code, 0, 'twice: refused');
      r = await cli(['project', 'invitations']);
      assert.match(r.stdout, /No pending invitations/);

      const viewer = await t.call('POST', '/v1/tokens', { body: { name: 'v', role: 'viewer' } });
      r = await cli(['project', 'invite', 'frank@example.com'], viewer.body.secret);
      assert.notEqual(r.code, 0, 'a viewer may not invite');
      assert.match(r.stderr, /owner/);
    });

    test('member set-role and member remove by e-mail or id; the last owner stays; errors exit non-zero', async () => {
      const added = await t.call('POST', '/v1/users', {
        token: t.secrets.operatorToken,
        body: { email: 'grace@example.com', project_id: t.secrets.projectId, role: 'viewer' },
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      const graceId = added.body.user.id as string;

      let r = await cli(['project', 'member', 'set-role', 'Grace@Example.com', '--role', 'member']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`grace@example.com \\(${graceId}\\) is member of ${t.secrets.projectId}`));
      r = await cli(['project', 'member', 'set-role', graceId, '--role', 'owner', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).role, 'owner');

      r = await cli(['project', 'member', 'set-role', 'grace@example.com']);
      assert.equal(r.code, 2, 'no --role: a usage error');
      assert.match(r.stderr, /missing --role/);
      r = await cli(['project', 'member', 'set-role', 'grace@example.com', '--role', 'admin']);
      assert.equal(r.code, 2);
      r = await cli(['project', 'member', 'promote', 'grace@example.com']);
      assert.equal(r.code, 2, 'an unknown verb');
      r = await cli(['project', 'member', 'remove', 'nobody@example.com']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /not a member/);

      r = await cli(['project', 'member', 'remove', 'grace@example.com']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /removed from/);
      r = await cli(['project', 'member', 'remove', 'owner@vmcloud.local']);
      assert.notEqual(r.code, 0, 'the last owner');
      assert.match(r.stderr, /last owner/);
      r = await cli(['project', 'members', '-o', 'json']);
      assert.ok(!r.stdout.includes('grace@example.com'), r.stdout);
      assert.match(r.stdout, /owner@vmcloud.local/);

      const member = await t.call('POST', '/v1/tokens', { body: { name: 'm', role: 'member' } });
      r = await cli(['project', 'member', 'remove', 'owner@vmcloud.local'], member.body.secret);
      assert.notEqual(r.code, 0, 'a member may not list or remove members');
      assert.match(r.stderr, /owner/);
    });
  });
}
