/**
 * `vmcloud ssh-key …` against the real control plane: create from a file and inline, list, show, update,
 * delete; a private key file refused before anything is sent; and `server create --ssh-key NAME` puts
 * the saved key in the server (its host's desired state).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startTestControlPlane, testDialects, type TestControlPlane, runCliAgainst } from './helpers.ts';
import { ed25519Key } from './ssh-key-lines.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud ssh-key (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv, { cwd: t.dataDir });
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('create from a file and inline, list, show, update, delete; server create --ssh-key NAME', async () => {
      const laptop = ed25519Key('me@laptop');
      await writeFile(join(t.dataDir, 'id_ed25519.pub'), `${laptop}\n`);
      await writeFile(join(t.dataDir, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n');
      let r = await cli(['ssh-key', 'create', '--name', 'laptop', '--public-key-file', 'id_ed25519.pub']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Fingerprint:?\s+SHA256:[A-Za-z0-9+/]{43}/);
      assert.match(r.stdout, /ssh-ed25519 \(256 bits\)/);

      const ci = ed25519Key('ci');
      r = await cli(['ssh-key', 'create', '--name', 'ci', '--public-key', ci, '--label', 'env=ci', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const created = JSON.parse(r.stdout).ssh_key;
      assert.equal(created.public_key, ci);

      r = await cli(['ssh-key', 'create', '--name', 'secret', '--public-key-file', 'id_ed25519']);
      assert.notEqual(r.code, 0, 'a private key is refused');
      assert.match(r.stderr, /private key/);
      r = await cli(['ssh-key', 'create', '--name', 'twice', '--public-key', laptop]);
      assert.notEqual(r.code, 0, 'the same key twice is refused');
      assert.match(r.stderr, /saved already as laptop/);
      r = await cli(['ssh-key', 'create', '--name', 'neither']);
      assert.notEqual(r.code, 0);

      r = await cli(['ssh-key', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /laptop/);
      assert.match(r.stdout, /ci/);
      assert.doesNotMatch(r.stdout, /secret|twice/);
      r = await cli(['ssh-key', 'show', created.id]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(created.fingerprint.replace(/[+/]/g, '\\$&')));
      r = await cli(['ssh-key', 'update', 'ci', '--name', 'ci-2026']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /ci-2026/);

      r = await cli([
        'server',
        'create',
        '--name',
        'keyed-1',
        '--product',
        'vps-nano',
        '--region',
        'fra1',
        '--image',
        'debian-12',
        '--ssh-key',
        'laptop',
        '--ssh-key',
        'ci-2026',
        '--wait',
        '-o',
        'json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const server = JSON.parse(r.stdout).server;
      const hostId = (await t.cp.services.scheduler.placementsOf(t.cp.db, [server.id])).get(server.id)!.hostId;
      const desired = (await t.cp.services.hostSync.desiredFor(hostId)).find((d) => d.spec.serverId === server.id)!;
      assert.deepEqual(desired.spec.sshKeys, [laptop, ci]);
      r = await cli([
        'server',
        'create',
        '--name',
        'keyed-2',
        '--product',
        'vps-nano',
        '--region',
        'fra1',
        '--image',
        'debian-12',
        '--ssh-key',
        'nosuchkey',
      ]);
      assert.notEqual(r.code, 0, 'an unknown saved key is refused');
      assert.match(r.stderr, /nosuchkey/);
      r = await cli([
        'server',
        'create',
        '--name',
        'keyed-3',
        '--product',
        'vps-nano',
        '--region',
        'fra1',
        '--image',
        'debian-12',
        '--ssh-key',
        'missing.pub',
      ]);
      assert.notEqual(r.code, 0, 'a missing .pub file is a file error, not a key name');
      assert.match(r.stderr, /cannot read .*missing\.pub \(no such file\)/);

      r = await cli(['ssh-key', 'delete', 'laptop']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['ssh-key', 'list', '-o', 'json']);
      assert.deepEqual(
        JSON.parse(r.stdout).map((k: { name: string }) => k.name),
        ['ci-2026'],
      );
    });
  });
}
