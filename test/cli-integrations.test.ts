/**
 * The integrations from the command line, against a running control plane: `vmcloud webhook …` end to
 * end with a receiver, and Debian's `ansible-inventory` reading `vmcloud inventory` as an inventory script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { runCli, type CliIo } from '../src/cli/main.ts';
import { inventoryOf, privateAddressesOf } from '../src/cli/commands/inventory.ts';
import type { Network, Server } from '../src/contract/index.ts';
import { startTestControlPlane, testDialects, until } from './helpers.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

const run = promisify(execFile);

test('inventoryOf: groups per region, product, status and label; deleted servers left out', () => {
  const server = (name: string, more: Partial<Server>): Server =>
    ({
      id: `srv_${name}`,
      name,
      project_id: 'prj_1',
      region: 'fra1',
      product: 'vps-nano',
      image: 'debian-12',
      status: 'running',
      desired_state: 'running',
      labels: {},
      ipv4: '203.0.113.10',
      placement: null,
      error: null,
      created_at: '',
      updated_at: '',
      ...more,
    }) as Server;
  const doc = inventoryOf(
    [
      server('web-1', { labels: { env: 'prod', 'app.kubernetes.io/name': 'shop' } }),
      server('db-1', { region: 'par1', status: 'stopped', ipv4: null }),
      server('gone', { desired_state: 'deleted' }),
    ],
    privateAddressesOf([
      { attachments: [{ server_id: 'srv_web-1', ip: '10.0.1.2' }] },
      { attachments: [{ server_id: 'srv_web-1', ip: '10.1.0.2' }] },
    ] as Network[]),
  ) as Record<string, { hosts?: string[]; children?: string[] }> & { _meta: { hostvars: Record<string, unknown> } };
  assert.deepEqual(doc.region_fra1.hosts, ['web-1']);
  assert.deepEqual(doc.region_par1.hosts, ['db-1']);
  assert.deepEqual(doc.product_vps_nano.hosts, ['db-1', 'web-1']);
  assert.deepEqual(doc.status_stopped.hosts, ['db-1']);
  assert.deepEqual(doc.label_env_prod.hosts, ['web-1']);
  assert.deepEqual(doc.label_app_kubernetes_io_name_shop.hosts, ['web-1']);
  assert.ok(!JSON.stringify(doc).includes('gone'));
  assert.deepEqual(doc._meta.hostvars['web-1'], {
    ansible_host: '203.0.113.10',
    vmcloud_id: 'srv_web-1',
    vmcloud_region: 'fra1',
    vmcloud_product: 'vps-nano',
    vmcloud_status: 'running',
    vmcloud_image: 'debian-12',
    vmcloud_labels: { env: 'prod', 'app.kubernetes.io/name': 'shop' },
    vmcloud_private_ipv4: ['10.0.1.2', '10.1.0.2'],
  });
  assert.deepEqual((doc._meta.hostvars['db-1'] as { vmcloud_private_ipv4: string[] }).vmcloud_private_ipv4, []);
  assert.equal((doc._meta.hostvars['db-1'] as { ansible_host?: string }).ansible_host, undefined);
});

for (const dialect of testDialects()) {
  test(`vmcloud webhook and vmcloud inventory with ansible-inventory (${dialect})`, { timeout: 120_000 }, async (t) => {
    const receiver = await startWebhookReceiver();
    const cp = await startTestControlPlane(dialect, { webhookAllowPrivate: true, webhooks: { pollIntervalMs: 50 } });
    t.after(async () => {
      await cp.dispose();
      await receiver.close();
    });
    const dir = mkdtempSync(join(tmpdir(), 'vmcloud-integrations-'));
    const env = { VMCLOUD_CONFIG: join(dir, 'none.json'), VMCLOUD_URL: cp.url, VMCLOUD_TOKEN: cp.secrets.projectToken };
    const cli = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {
        stdout: { write: (c: string) => out.push(c) },
        stderr: { write: (c: string) => err.push(c) },
        env,
        isTTY: false,
      };
      const code = await runCli(argv, io);
      return { code, stdout: out.join(''), stderr: err.join('') };
    };

    // webhook create → the secret once; list, show, test, deliveries, rotate-secret, delete.
    let result = await cli([
      'webhook',
      'create',
      '--url',
      receiver.url,
      '--events',
      'server.*,webhook.test',
      '-o',
      'json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const created = JSON.parse(result.stdout) as { webhook: { id: string }; secret: string };
    assert.match(created.secret, /^whsec_/);
    const id = created.webhook.id;
    result = await cli(['webhook', 'list']);
    assert.match(
      result.stdout,
      new RegExp(
        `^ID +URL +EVENTS +ENABLED .*\\n${id} +${receiver.url.replace(/[.]/g, '\\.')} +server\\.\\*,webhook\\.test +yes`,
      ),
    );
    result = await cli(['webhook', 'show', id]);
    assert.ok(!result.stdout.includes(created.secret), 'show never prints the secret');
    result = await cli(['webhook', 'test', id, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const delivery = JSON.parse(result.stdout) as { id: string };
    await until('test delivered', () => receiver.delivered.has(delivery.id));
    await until('delivery recorded', async () => {
      const listed = await cli(['webhook', 'deliveries', id, '-o', 'json']);
      return (JSON.parse(listed.stdout) as Array<{ id: string; status: string }>).some(
        (d) => d.id === delivery.id && d.status === 'succeeded',
      );
    });
    result = await cli(['webhook', 'rotate-secret', id]);
    assert.match(result.stdout, /\nSecret: +whsec_\S+ +\(shown once/);
    result = await cli(['webhook', 'create', '--url', 'ftp://nope']);
    assert.equal(result.code, 2, 'bad input exits 2');

    // Servers with labels, then Ansible reads the inventory script.
    for (const [name, labels] of [
      ['web-1', 'env=prod,role=web'],
      ['db-1', 'env=prod,role=db'],
    ]) {
      result = await cli([
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
        '--label',
        labels,
        '--wait',
      ]);
      assert.equal(result.code, 0, result.stderr);
    }
    result = await cli(['network', 'create', '--name', 'backend', '--region', 'fra1', '--ip-range', '10.0.0.0/16']);
    assert.equal(result.code, 0, result.stderr);
    result = await cli(['server', 'attach-network', 'web-1', '--network', 'backend', '--wait']);
    assert.equal(result.code, 0, result.stderr);
    const script = join(dir, 'vmcloud-inventory.sh');
    writeFileSync(script, `#!/bin/sh\nexec "${process.execPath}" "${resolve('bin/vmcloud.ts')}" inventory "$@"\n`);
    chmodSync(script, 0o755);
    const ansible = await run('ansible-inventory', ['-i', script, '--list'], {
      env: {
        ...process.env,
        ...env,
        HOME: dir,
        ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'),
        ANSIBLE_INVENTORY_ENABLED: 'script',
      },
    });
    const inventory = JSON.parse(ansible.stdout) as Record<string, { hosts?: string[] }> & {
      _meta: { hostvars: Record<string, { ansible_host: string; vmcloud_id: string; vmcloud_private_ipv4: string[] }> };
    };
    assert.deepEqual(inventory.region_fra1.hosts?.sort(), ['db-1', 'web-1']);
    assert.deepEqual(inventory.label_role_web.hosts, ['web-1']);
    assert.deepEqual(inventory.label_env_prod.hosts?.sort(), ['db-1', 'web-1']);
    assert.deepEqual(inventory.status_running.hosts?.sort(), ['db-1', 'web-1']);
    assert.deepEqual(inventory.product_vps_nano.hosts?.sort(), ['db-1', 'web-1']);
    assert.match(inventory._meta.hostvars['web-1'].ansible_host, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(inventory._meta.hostvars['web-1'].vmcloud_id, /^srv_/);
    assert.equal(inventory._meta.hostvars['web-1'].vmcloud_private_ipv4.length, 1);
    assert.match(inventory._meta.hostvars['web-1'].vmcloud_private_ipv4[0], /^10\.0\.\d+\.\d+$/);
    assert.deepEqual(inventory._meta.hostvars['db-1'].vmcloud_private_ipv4, []);
    const host = await run(script, ['--host', 'db-1'], { env: { ...process.env, ...env } });
    assert.equal((JSON.parse(host.stdout) as { vmcloud_labels: Record<string, string> }).vmcloud_labels.role, 'db');
  });
}
