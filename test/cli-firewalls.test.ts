/** `vmcloud firewall …` against the real control plane (simulated hosts), and the rule/target parsers. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { parseRuleSpec, parseTargetSpec } from '../src/cli/commands/firewall.ts';
import { startTestControlPlane, testDialects, type TestControlPlane, runCliAgainst } from './helpers.ts';

test('rule and target specs', () => {
  assert.deepEqual(parseRuleSpec('in:tcp:443:0.0.0.0/0'), {
    direction: 'in',
    protocol: 'tcp',
    port: '443',
    source_ips: ['0.0.0.0/0'],
  });
  assert.deepEqual(parseRuleSpec('in:tcp:22:10.0.0.0/8,2001:db8::/32', 'ssh'), {
    direction: 'in',
    protocol: 'tcp',
    port: '22',
    source_ips: ['10.0.0.0/8', '2001:db8::/32'],
    description: 'ssh',
  });
  assert.deepEqual(parseRuleSpec('in:icmpv6:::/0'), { direction: 'in', protocol: 'icmpv6', source_ips: ['::/0'] });
  assert.deepEqual(parseRuleSpec('out:udp:1000-2000:9.9.9.9'), {
    direction: 'out',
    protocol: 'udp',
    port: '1000-2000',
    destination_ips: ['9.9.9.9'],
  });
  assert.deepEqual(parseRuleSpec('in:tcp:any:0.0.0.0/0'), {
    direction: 'in',
    protocol: 'tcp',
    source_ips: ['0.0.0.0/0'],
  });
  for (const bad of ['sideways:tcp:22:0.0.0.0/0', 'in:sctp:22:0.0.0.0/0', 'in:tcp', 'tcp:22'])
    assert.throws(() => parseRuleSpec(bad), /--rule|direction|protocol/, bad);
  assert.deepEqual(parseTargetSpec('label:role=web'), {
    type: 'label_selector',
    label_selector: { selector: 'role=web' },
  });
  assert.deepEqual(parseTargetSpec('server:web-1'), { type: 'server', server: { id: 'web-1' } });
  assert.deepEqual(parseTargetSpec('web-1'), { type: 'server', server: { id: 'web-1' } });
});

for (const dialect of testDialects()) {
  describe(`vmcloud firewall (${dialect})`, () => {
    let t: TestControlPlane;
    const cli = (argv: string[]) => runCliAgainst(t, argv);
    before(async () => {
      t = await startTestControlPlane(dialect);
    });
    after(async () => {
      await t?.dispose();
    });

    test('create, show, add-rule, delete-rule, set-rules --file, apply, remove, list, delete; errors exit non-zero', async () => {
      let r = await cli([
        'server',
        'create',
        '--name',
        'web-1',
        '--product',
        'vps-nano',
        '--region',
        'fra1',
        '--image',
        'debian-12',
        '--label',
        'role=web',
        '--wait',
      ]);
      assert.equal(r.code, 0, r.stderr);
      r = await cli([
        'firewall',
        'create',
        '--name',
        'web',
        '--rule',
        'in:tcp:443:0.0.0.0/0',
        '--apply-to',
        'label:role=web',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Applied to: +label role=web \(srv_/);
      assert.match(r.stdout, /in tcp 443 from 0\.0\.0\.0\/0/);

      r = await cli([
        'firewall',
        'add-rule',
        'web',
        '--rule',
        'in:tcp:22:203.0.113.0/24,2001:db8::/32',
        '--description',
        'ssh',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /in tcp 22 from 203\.0\.113\.0\/24, 2001:db8::\/32 .* ssh/);
      assert.match(r.stdout, /Rules version: +2/);

      r = await cli(['firewall', 'add-rule', 'web', '--rule', 'in:tcp:99999:0.0.0.0/0']);
      assert.notEqual(r.code, 0, 'a bad port is refused');
      assert.match(r.stderr, /port 99999/);

      r = await cli(['firewall', 'delete-rule', 'web', '--index', '0']);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /443/);
      r = await cli(['firewall', 'delete-rule', 'web', '--index', '5']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /no rule #5/);

      const file = join(t.dataDir, 'rules.json');
      await writeFile(
        file,
        JSON.stringify({ rules: [{ direction: 'out', protocol: 'udp', port: '53', destination_ips: ['9.9.9.9'] }] }),
      );
      r = await cli(['firewall', 'set-rules', 'web', '--file', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /out udp 53 to 9\.9\.9\.9\/32/);
      r = await cli(['firewall', 'set-rules', 'web', '--file', join(t.dataDir, 'missing.json')]);
      assert.notEqual(r.code, 0);

      r = await cli(['firewall', 'apply', 'web', '--server', 'web-1']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /server srv_/);
      r = await cli(['firewall', 'apply', 'web', '--server', 'web-1']);
      assert.notEqual(r.code, 0, 'applied twice');
      assert.match(r.stderr, /already/);

      r = await cli(['firewall', 'delete', 'web']);
      assert.notEqual(r.code, 0, 'in use');
      assert.match(r.stderr, /remove it first/);
      r = await cli(['firewall', 'remove', 'web', '--server', 'web-1', '--selector', 'role=web']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Applied to: +-/);

      r = await cli(['firewall', 'list', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        JSON.parse(r.stdout).map((f: { name: string }) => f.name),
        ['web'],
      );
      r = await cli(['firewall', 'delete', 'web']);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(['firewall', 'show', 'web']);
      assert.notEqual(r.code, 0);
    });
  });
}
