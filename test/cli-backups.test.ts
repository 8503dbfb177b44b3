/**
 * `vmcloud backup …` against the real control plane (REST API, backup worker, simulated hosts and their
 * backup model) on every dialect: policy set/show, create --wait (full then incremental), list, show,
 * restore --to-new in another region --wait, an in-place restore refused on a running server, stats,
 * delete; refusals exit with their code.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud backup (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv);
    before(async () => {
      t = await startTestControlPlane(dialect, { backupLoopIntervalMs: 50 });
    });
    after(async () => {
      await t?.dispose();
    });

    test('policy set/show, create --wait, list, show, restore --to-new --region --wait, stats, delete; refusals', async () => {
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

      r = await cli(['backup', 'policy', 'set', 'web-1', '--every', '6h', '--keep-daily', '7']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /scope +server/);
      assert.match(r.stdout, /every +6h00m \(offset \d+ min\)/);
      assert.match(r.stdout, /keep \(local\) +last 5, hourly 0, daily 7, weekly 0, monthly 0/);
      r = await cli([
        'backup',
        'policy',
        'set',
        'web-1',
        '--remote-region',
        'AMS1',
        '--remote-keep-days',
        '30',
        '-o',
        'json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const policy = JSON.parse(r.stdout).policy;
      assert.equal(policy.every_minutes, 360, 'the earlier field kept');
      assert.equal(policy.remote_region, 'ams1');
      assert.equal(policy.remote_keep_days, 30);
      r = await cli(['backup', 'policy', 'show', 'web-1']);
      assert.match(r.stdout, /remote copy +ams1, kept 30 days/);

      // Refusals: a period under an hour (the API's bound), a duration that is not one, all keep rules at 0, the server's own region.
      r = await cli(['backup', 'policy', 'set', 'web-1', '--every', '30m']);
      assert.equal(r.code, 2, r.stderr);
      r = await cli(['backup', 'policy', 'set', 'web-1', '--every', 'often']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /not a duration/);
      r = await cli(['backup', 'policy', 'set', 'web-1', '--keep-last', '0', '--keep-daily', '0']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /keeps at least one backup/);
      r = await cli(['backup', 'policy', 'set', 'web-1', '--remote-region', 'fra1']);
      assert.equal(r.code, 2);
      r = await cli(['backup', 'policy', 'show', 'web-1', '-o', 'json']);
      assert.equal(JSON.parse(r.stdout).policy.keep_daily, 7, 'nothing changed by the refusals');

      r = await cli(['backup', 'create', 'web-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      const firstId = /^backup (bkp_\S+) of web-1: succeeded$/m.exec(r.stdout)?.[1];
      assert.ok(firstId, r.stdout);
      r = await cli(['backup', 'create', 'web-1', '--wait', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const second = JSON.parse(r.stdout).backup;
      assert.equal(second.status, 'succeeded');
      assert.equal(second.kind, 'incremental');
      assert.equal(second.location, 'both');
      assert.ok(second.read_bytes < second.disk_bytes, 'an incremental reads less than the disk');

      r = await cli(['backup', 'list', 'web-1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ID +SERVER +STATUS +KIND +READ +VOLUMES +STORED +LOCATION +CREATED/);
      assert.match(
        r.stdout,
        new RegExp(`\\n${second.id} +web-1 +succeeded +incremental +[\\d.]+ GiB +0 +[\\d.]+ GiB +both `),
      );
      assert.match(r.stdout, new RegExp(`\\n${firstId} +web-1 +succeeded +full `));
      r = await cli(['backup', 'show', firstId, '-o', 'json']);
      const shown = JSON.parse(r.stdout).backup;
      for (const field of ['disk_bytes', 'read_bytes', 'stored_bytes', 'duration_ms', 'location', 'verified_at'])
        assert.ok(field in shown, `backup show has ${field}`);
      assert.equal(shown.kind, 'full');
      assert.ok(shown.read_bytes > second.read_bytes && shown.read_bytes <= shown.disk_bytes, 'a full reads more');
      r = await cli(['backup', 'show', firstId]);
      assert.match(r.stdout, /status: succeeded/);

      r = await cli(['backup', 'restore', firstId, '--to-new', 'web-1-copy', '--region', 'ams1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^restore rst_\\S+ of ${firstId} into srv_\\S+: succeeded`));
      r = await cli(['server', 'show', 'web-1-copy', '-o', 'json']);
      assert.equal(JSON.parse(r.stdout).region, 'ams1');
      r = await cli(['backup', 'restore', firstId, '--in-place']);
      assert.equal(r.code, 6, 'a running server is not restored in place');
      assert.match(r.stderr, /stop it first/);
      r = await cli(['backup', 'restore', firstId, '--to-new', 'web-1-copy2', '--region', 'par1']);
      assert.equal(r.code, 2, 'no copy in par1');

      // The schedule follows server.created through an event consumer: on PostgreSQL the event becomes
      // readable once older transactions anywhere in the cluster ended.
      await until('the schedule in the stats', async () =>
        (await cli(['backup', 'stats'])).stdout.startsWith('REGION') ? true : undefined,
      );
      r = await cli(['backup', 'stats']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^REGION +SERVERS +WITHOUT BACKUP +RPO P50 +RPO P99 +RTO P50 +RTO P99/);
      assert.match(r.stdout, /\nfra1 +\d+ +\d+ +\d+ min/);
      assert.match(r.stdout, /promise: RPO < 6 h, RTO < 1 h/);

      r = await cli(['backup', 'delete', firstId]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`backup ${firstId} deleted`));
      r = await cli(['backup', 'show', firstId]);
      assert.equal(r.code, 5, 'a deleted backup is not found');
      r = await cli(['backup', 'list', '-o', 'json']);
      assert.deepEqual(
        JSON.parse(r.stdout).map((b: { id: string }) => b.id),
        [second.id],
      );
      r = await cli(['backup', 'create', 'no-such-server']);
      assert.equal(r.code, 5);
    });
  });
}
