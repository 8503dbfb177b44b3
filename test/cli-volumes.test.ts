/** `vmcloud volume …` against the real control plane (REST API, scheduler, simulated hosts) on every dialect. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud volume (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv);
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

    test('create --from-backup --wait (size optional); --from-snapshot refusals exit non-zero', async () => {
      const server = await t.call('POST', '/v1/servers', {
        body: { name: 'src-cli', product: 'vps-starter', region: 'fra1', image: 'debian-12' },
      });
      assert.equal((await t.waitForAction(server.body.action.id)).status, 'success');
      const backup = await t.call('POST', `/v1/servers/${server.body.server.id}/backups`);
      assert.equal(backup.status, 202, JSON.stringify(backup.body));
      const backupId = backup.body.backup.id as string;
      await until('the backup', async () => {
        await t.cp.backupWorkerOnce();
        await t.cp.services.backups.drain();
        return (await t.call('GET', `/v1/backups/${backupId}`)).body.backup.status === 'succeeded';
      });
      let r = await cli([
        'volume',
        'create',
        '--name',
        'restored',
        '--region',
        'fra1',
        '--from-backup',
        backupId,
        '--wait',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Status: +available/);
      assert.match(r.stdout, /Size: +50 GiB/);
      assert.match(r.stdout, new RegExp(`Source: +backup ${backupId}`));
      r = await cli([
        'volume',
        'create',
        '--name',
        'tiny',
        '--region',
        'fra1',
        '--from-backup',
        backupId,
        '--size-gib',
        '1',
      ]);
      assert.equal(r.code, 2, 'smaller than the source: bad input');
      assert.match(r.stderr, /at least 50/);
      r = await cli(['volume', 'create', '--name', 'copy', '--region', 'fra1', '--from-snapshot', 'src-cli']);
      assert.equal(r.code, 2, 'SERVER:SNAPSHOT is required');
      r = await cli(['volume', 'create', '--name', 'copy', '--region', 'fra1', '--from-snapshot', 'src-cli:snap-1']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cannot copy disk snapshots/);
      r = await cli(['volume', 'create', '--name', 'copy', '--region', 'fra1']);
      assert.equal(r.code, 2, 'an empty volume needs its size');
      r = await cli(['volume', 'list', '-o', 'json']);
      assert.deepEqual(
        JSON.parse(r.stdout).map((v: { name: string }) => v.name),
        ['restored'],
      );
      r = await cli(['volume', 'delete', 'restored', '--wait']);
      assert.equal(r.code, 0, r.stderr);
    });
  });
}
