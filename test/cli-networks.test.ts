/** `vmcloud network|floating-ip|primary-ip …` and `server attach-network` against the real control plane. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestControlPlane, testDialects, until, type TestControlPlane, runCliAgainst } from './helpers.ts';

for (const dialect of testDialects()) {
  describe(`vmcloud network, floating-ip, primary-ip (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv);
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('network create/show/list, attach-network --wait, floating-ip create/assign --wait/show, primary-ip', async () => {
      for (const name of ['web-1', 'web-2']) {
        const r = await cli([
          'server',
          'create',
          '--name',
          name,
          '--product',
          'vps-nano',
          '--region',
          'fra1',
          '--image',
          'debian-12',
          '--wait',
        ]);
        assert.equal(r.code, 0, r.stderr);
      }
      let r = await cli(['network', 'create', '--name', 'net-1', '--region', 'fra1', '--ip-range', '10.20.0.0/24']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /IP range: +10\.20\.0\.0\/24/);
      assert.match(r.stdout, /Subnets: +10\.20\.0\.0\/24 \(gateway 10\.20\.0\.1\)/);
      r = await cli(['network', 'create', '--name', 'net-2', '--region', 'fra1', '--ip-range', '10.20.0.0/25']);
      assert.notEqual(r.code, 0, 'an overlapping range is refused');
      assert.match(r.stderr, /overlaps network net-1/);
      r = await cli(['server', 'attach-network', 'web-1', '--network', 'net-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /server web-1 attached to network net-1/);
      r = await cli(['server', 'attach-network', 'web-2', '--network', 'net-1', '--ip', '10.20.0.99', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['server', 'attach-network', 'web-2', '--network', 'net-1', '--ip', '10.20.1.5']);
      assert.notEqual(r.code, 0, 'an address outside the subnet is refused');
      r = await cli(['network', 'show', 'net-1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /10\.20\.0\.2 .*attached/);
      assert.match(r.stdout, /10\.20\.0\.99 .*attached/);
      r = await cli(['network', 'list', '-o', 'json']);
      assert.equal(JSON.parse(r.stdout).length, 1);
      // Attached at creation (server create --network); an unknown network refuses the create.
      r = await cli(
        ['server', 'create', '--name', 'web-3', '--product', 'vps-nano', '--region', 'fra1'].concat([
          '--image',
          'debian-12',
          '--network',
          'net-1',
          '--wait',
        ]),
      );
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['network', 'show', 'net-1']);
      assert.equal(r.stdout.split('\n').filter((line) => /10\.20\.0\.\d+ .*attached/.test(line)).length, 3);
      r = await cli(
        ['server', 'create', '--name', 'web-4', '--product', 'vps-nano', '--region', 'fra1'].concat([
          '--image',
          'debian-12',
          '--network',
          'no-such-net',
        ]),
      );
      assert.notEqual(r.code, 0, 'an unknown network is refused');
      assert.match(r.stderr, /unknown_network|no-such-net/);
      r = await cli(['server', 'detach-network', 'web-3', '--network', 'net-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['network', 'delete', 'net-1']);
      assert.notEqual(r.code, 0, 'in use');
      r = await cli(['server', 'detach-network', 'web-2', '--network', 'net-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);

      r = await cli(['floating-ip', 'create', '--region', 'fra1', '--name', 'vip', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const fip = JSON.parse(r.stdout).floating_ip;
      r = await cli(['floating-ip', 'assign', fip.id, '--server', 'web-1', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /routed to web-1/);
      r = await cli(['floating-ip', 'assign', 'vip', '--server', 'web-2', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['floating-ip', 'set-dns-ptr', 'vip', '--ip', fip.ip, '--dns-ptr', 'vip.example.com']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['floating-ip', 'show', 'vip']);
      assert.match(r.stdout, new RegExp(`IP: +${fip.ip.replace(/\./g, '\\.')}`));
      assert.match(r.stdout, /Reverse DNS: .*vip\.example\.com/);
      r = await cli(['floating-ip', 'list']);
      assert.match(r.stdout, /vip/);
      r = await cli(['floating-ip', 'delete', 'vip']);
      assert.notEqual(r.code, 0, 'assigned');
      r = await cli(['floating-ip', 'unassign', 'vip', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['floating-ip', 'delete', 'vip']);
      assert.equal(r.code, 0, r.stderr);

      r = await cli([
        'primary-ip',
        'create',
        '--name',
        'keep',
        '--region',
        'fra1',
        '--type',
        'ipv4',
        '--server',
        'web-1',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Auto delete: +no/);
      await until('web-1’s IPv6', async () => {
        const l = await cli(['primary-ip', 'list', '--type', 'ipv6', '-o', 'json']);
        return JSON.parse(l.stdout).length >= 2;
      });
      r = await cli(['primary-ip', 'list']);
      assert.match(r.stdout, /web-1-ipv6 .*2001:db8:2:/);
      r = await cli(['primary-ip', 'update', 'keep', '--auto-delete', 'true']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Auto delete: +yes/);
    });
  });
}
