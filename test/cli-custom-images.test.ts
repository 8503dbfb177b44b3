/** `vmcloud server create-image`, `vmcloud image list|show|delete` against the real control plane on every dialect. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud custom images (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv);
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('create-image --wait from a stopped server, list, show, boot it, delete refused while used, delete --wait', async () => {
      const server = ['--product', 'vps-starter', '--region', 'fra1', '--wait'];
      let r = await cli(['server', 'create', '--name', 'web-1', '--image', 'debian-12', ...server]);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['server', 'create-image', 'web-1', '--image-name', 'golden', '--wait']);
      assert.notEqual(r.code, 0, 'a running server is refused');
      assert.match(r.stderr, /stop it first/);
      r = await cli(['server', 'create-image', 'web-1', '--wait']);
      assert.notEqual(r.code, 0, '--image-name is required');
      r = await cli(['server', 'stop', 'web-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['server', 'create-image', 'web-1', '--image-name', 'golden', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /image golden \(cimg_[0-9a-z]{26}\) made from server web-1/);

      r = await cli(['image', 'list', '--category', 'custom']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /cimg_[0-9a-z]{26} +golden +custom +debian/);
      assert.doesNotMatch(r.stdout, /debian-12/, 'only the custom ones');
      r = await cli(['image', 'show', 'golden', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const image = JSON.parse(r.stdout);
      assert.equal(image.status, 'available');
      assert.equal(image.source_image, 'debian-12');

      r = await cli(['server', 'create', '--name', 'web-2', '--image', 'golden', ...server]);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['server', 'show', 'web-2', '-o', 'json']);
      assert.equal(JSON.parse(r.stdout).image, image.id);
      r = await cli(['image', 'delete', 'golden', '--wait']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /used by 1 live server/);
      r = await cli(['server', 'delete', 'web-2', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['image', 'delete', 'golden', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /image golden deleted/);
      r = await cli(['image', 'show', image.id]);
      assert.notEqual(r.code, 0, 'gone');
    });
  });
}
