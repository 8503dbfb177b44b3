import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeQmpServer } from './fake-qmp-server.ts';
import { connectQmp } from './qmp-client.ts';
import {
  createPrivateNicSync,
  plugPrivateNic,
  privateNicArguments,
  privateNicIds,
  unplugPrivateNic,
} from './private-nics.ts';
import { silentLogger } from '../../../core/index.ts';
import { renderNetworkConfig } from './network-config.ts';

const nic = { networkId: 'net_01', tap: 'vmp0123456789ab', mac: '02:11:22:33:44:55' };

test('privateNicArguments: golden', () => {
  const ids = privateNicIds('net_01');
  assert.match(ids.netdev, /^pn[0-9a-f]{10}$/);
  assert.deepEqual(privateNicArguments(nic), {
    netdev: { type: 'tap', id: ids.netdev, ifname: 'vmp0123456789ab', script: 'no', downscript: 'no', vhost: false },
    device: { driver: 'virtio-net-pci', id: ids.device, netdev: ids.netdev, mac: '02:11:22:33:44:55' },
  });
});

test('hot-plug and unplug a private NIC over QMP (fake QMP server)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-nic-'));
  const socket = join(dir, 'qmp.sock');
  const plugged = new Set<string>();
  let server: Awaited<ReturnType<typeof startFakeQmpServer>> | null = null;
  server = await startFakeQmpServer(socket, {
    netdev_add: () => ({ return: {} }),
    device_add: (args) => {
      plugged.add(String(args?.id));
      return { return: {} };
    },
    device_del: (args) => {
      const id = String(args?.id);
      if (!plugged.has(id)) return { error: { class: 'DeviceNotFound', desc: `Device '${id}' not found` } };
      plugged.delete(id);
      setTimeout(() => server!.emitEvent('DEVICE_DELETED', { device: id, path: `/machine/peripheral/${id}` }), 10);
      return { return: {} };
    },
    netdev_del: () => ({ return: {} }),
    'query-status': () => ({ return: { running: true, status: 'running' } }),
  });
  const qmp = await connectQmp(socket);
  try {
    await plugPrivateNic(qmp, nic);
    const ids = privateNicIds(nic.networkId);
    assert.deepEqual(
      server.received.map((c) => c.execute),
      ['netdev_add', 'device_add'],
    );
    assert.ok(plugged.has(ids.device));
    await unplugPrivateNic(qmp, nic.networkId, 5_000);
    assert.equal(plugged.has(ids.device), false);
    assert.deepEqual(server.received.map((c) => c.execute).slice(2), ['device_del', 'netdev_del']);
    // Unplugging again: the device is gone, nothing to wait for.
    await unplugPrivateNic(qmp, nic.networkId, 5_000);

    // The level-triggered sync: plugs what is missing once, unplugs what should not be there.
    const sync = createPrivateNicSync({
      withLock: (_serverId, body) => body(),
      runtimeOf: async () => ({ qmp }),
      log: silentLogger,
      unplugTimeoutMs: 5_000,
    });
    const before = server.received.length;
    await sync.sync('srv_1', [nic]);
    await sync.sync('srv_1', [nic]);
    const commands = () =>
      server!.received
        .slice(before)
        .map((c) => c.execute)
        .filter((c) => c !== 'query-status');
    assert.deepEqual(commands(), ['netdev_add', 'device_add'], 'plugged once');
    await sync.sync('srv_1', []);
    assert.deepEqual(commands(), ['netdev_add', 'device_add', 'device_del', 'netdev_del']);
  } finally {
    qmp.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('renderNetworkConfig: static public and private NICs, MTU and routes, no DHCP', () => {
  assert.equal(
    renderNetworkConfig(
      { mac: '52:54:00:12:34:56', address: '10.12.0.7/16', gateway: '10.12.0.1', ipv6: '2001:db8:2:5::1/64' },
      [
        {
          mac: '02:11:22:33:44:55',
          address: '10.20.0.2/24',
          mtu: 1450,
          routes: [{ destination: '10.100.0.0/16', gateway: '10.20.0.254' }],
        },
      ],
    ),
    `version: 2
ethernets:
  eth0:
    match:
      macaddress: "52:54:00:12:34:56"
    set-name: "eth0"
    addresses:
      - "10.12.0.7/16"
      - "2001:db8:2:5::1/64"
    routes:
      - to: "0.0.0.0/0"
        via: "10.12.0.1"
      - to: "::/0"
        via: "fe80::1"
  eth1:
    match:
      macaddress: "02:11:22:33:44:55"
    set-name: "eth1"
    mtu: 1450
    addresses:
      - "10.20.0.2/24"
    routes:
      - to: "10.100.0.0/16"
        via: "10.20.0.254"
`,
  );
});
