/** `vmcloud operator-user link|unlink|list` against the real control plane. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../src/cli/main.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud operator-user (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = async (argv: string[], token = t.secrets.operatorToken) => {
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
  });
}
