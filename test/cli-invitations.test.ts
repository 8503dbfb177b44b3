/** `vmcloud project invite|invitations|revoke-invitation|members` against the real control plane. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../src/cli/main.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud project invitations (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = async (argv: string[], token = t.secrets.projectToken) => {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const io: CliIo = {
        stdout: { write: (chunk: string) => stdout.push(chunk) },
        stderr: { write: (chunk: string) => stderr.push(chunk) },
        env: { VMCLOUD_CONFIG: join(t.dataDir, 'no-cli-config.json'), VMCLOUD_URL: t.url, VMCLOUD_TOKEN: token },
        isTTY: false,
      };
      const code = await runCli(argv, io);
      return { code, stdout: stdout.join(''), stderr: stderr.join('') };
    };
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
  });
}
