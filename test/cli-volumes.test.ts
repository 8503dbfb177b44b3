/** `vmcloud volume …` against the real control plane (REST API, scheduler, simulated hosts) on every dialect. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../src/cli/main.ts';
import { startTestControlPlane, testDialects, type TestControlPlane } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud volume (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = async (argv: string[]) => {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const io: CliIo = {
        stdout: { write: (chunk: string) => stdout.push(chunk) },
        stderr: { write: (chunk: string) => stderr.push(chunk) },
        env: {
          VMCLOUD_CONFIG: join(t.dataDir, 'no-cli-config.json'),
          VMCLOUD_URL: t.url,
          VMCLOUD_TOKEN: t.secrets.projectToken,
          VMCLOUD_POLL_INTERVAL_MS: '20',
        },
        isTTY: false,
      };
      const code = await runCli(argv, io);
      return { code, stdout: stdout.join(''), stderr: stderr.join('') };
    };
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('create, attach --wait, resize --wait, list, show, detach --wait, delete --wait; refusals exit non-zero', async () => {
      let r = await cli([
        'server',
        'create',
        '--name',
        'web-1',
        '--product',
        'vps-starter',
        '--region',
        'fra1',
        '--image',
        'debian-12',
        '--wait',
      ]);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['volume', 'create', '--name', 'vol-1', '--size-gib', '10', '--region', 'FRA1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Status: +available/);
      assert.match(r.stdout, /Size: +10 GiB/);
      r = await cli(['volume', 'attach', 'vol-1', '--server', 'web-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /volume vol-1 attached to web-1/);
      r = await cli(['volume', 'resize', 'vol-1', '--size-gib', '20', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['volume', 'show', 'vol-1', '-o', 'json']);
      const shown = JSON.parse(r.stdout);
      assert.equal(shown.size_gib, 20);
      assert.equal(shown.status, 'attached');
      assert.equal(shown.encrypted, true, 'encrypted at rest under a key of its own');
      r = await cli(['volume', 'show', 'vol-1']);
      assert.match(r.stdout, /Encrypted:\s+yes \(LUKS, AES-256-XTS\)/);
      r = await cli(['volume', 'list']);
      assert.match(r.stdout, /^NAME +ID +STATUS +SIZE +REGION +SERVER/);
      assert.match(r.stdout, /\nvol-1 +vol_\S+ +attached +20 GiB +fra1 +srv_/);

      r = await cli(['volume', 'delete', 'vol-1']);
      assert.notEqual(r.code, 0, 'delete of an attached volume is refused');
      assert.match(r.stderr, /detach it first/);
      r = await cli(['volume', 'resize', 'vol-1', '--size-gib', '5']);
      assert.equal(r.code, 2, 'a shrink is bad input');

      r = await cli(['volume', 'detach', 'vol-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['volume', 'delete', 'vol-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /volume vol-1 deleted/);
      r = await cli(['volume', 'list', '-o', 'json']);
      assert.deepEqual(JSON.parse(r.stdout), []);
    });
  });
}
