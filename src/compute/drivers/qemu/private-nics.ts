/**
 * Private-network NICs of a running QEMU server, hot-plugged over QMP: `netdev_add` opens the port's tap
 * (made by the host's network data plane, `vmp…`, already in its segment's bridge), `device_add` plugs a
 * `virtio-net-pci` with the port's MAC; unplug is `device_del` (the guest releases it: `DEVICE_DELETED`),
 * then `netdev_del`. Names derive from the network id, so a repeated plug or unplug is recognised.
 */
import { createHash } from 'node:crypto';
import { VmcError } from '../../../core/index.ts';
import type { QmpClient } from './qmp-client.ts';
import { deviceAdd, deviceDel, netdevAdd, netdevDel, queryStatus, waitForQmpEvent } from './qmp-commands.ts';
import type { Logger } from '../../../core/index.ts';

export interface PrivateNic {
  networkId: string;
  /** The host tap of the port (the data plane's `privateTapName`). */
  tap: string;
  mac: string;
}

/** QEMU ids of a private NIC: `pn<hash>` for the netdev and `pnd<hash>` for the device. */
export function privateNicIds(networkId: string): { netdev: string; device: string } {
  const hash = createHash('sha256').update(networkId).digest('hex').slice(0, 10);
  return { netdev: `pn${hash}`, device: `pnd${hash}` };
}

/** The QMP arguments of a plug, pure (golden-tested). */
export function privateNicArguments(nic: PrivateNic) {
  const ids = privateNicIds(nic.networkId);
  return {
    netdev: { type: 'tap', id: ids.netdev, ifname: nic.tap, script: 'no', downscript: 'no', vhost: false },
    device: { driver: 'virtio-net-pci', id: ids.device, netdev: ids.netdev, mac: nic.mac },
  };
}

const alreadyThere = (error: unknown) => /duplicate|already|in use/i.test((error as Error).message);
const notThere = (error: unknown) => /not found|no such/i.test((error as Error).message);

export async function plugPrivateNic(qmp: QmpClient, nic: PrivateNic): Promise<void> {
  const args = privateNicArguments(nic);
  await netdevAdd(qmp, args.netdev).catch((error: unknown) => {
    if (!alreadyThere(error)) throw error;
  });
  await deviceAdd(qmp, args.device).catch((error: unknown) => {
    if (!alreadyThere(error)) throw error;
  });
}

export async function unplugPrivateNic(qmp: QmpClient, networkId: string, timeoutMs = 30_000): Promise<void> {
  const ids = privateNicIds(networkId);
  const released = waitForQmpEvent(qmp, 'DEVICE_DELETED', timeoutMs, (data) => data.device === ids.device);
  released.catch(() => {});
  let plugged = true;
  await deviceDel(qmp, ids.device).catch((error: unknown) => {
    if (!notThere(error)) throw error;
    plugged = false;
  });
  if (plugged)
    await released.catch((error: unknown) => {
      throw new VmcError(
        'unavailable',
        `the guest did not release its NIC on ${networkId}: ${(error as Error).message}`,
        {
          reason: 'unplug_timeout',
        },
      );
    });
  await netdevDel(qmp, ids.netdev).catch((error: unknown) => {
    if (!notThere(error)) throw error;
  });
}

/**
 * Keeps each running instance's private NICs equal to what it should have: plugs the missing ones and
 * unplugs the others. What was plugged is remembered per QEMU process (its QMP client): a restarted
 * instance starts with none, and the next call plugs them again. Level-triggered; failures throw and the
 * agent's next pass tries again.
 */
export function createPrivateNicSync(deps: {
  withLock: <T>(serverId: string, body: () => Promise<T>) => Promise<T>;
  runtimeOf: (serverId: string) => Promise<{ qmp: QmpClient } | null>;
  log: Logger;
  unplugTimeoutMs?: number;
}) {
  const plugged = new Map<string, { qmp: QmpClient; nics: Map<string, PrivateNic> }>();
  return {
    /** NICs plugged at boot on the command line of the QEMU process behind `qmp` (qemu-argv.ts). */
    adopt(serverId: string, qmp: QmpClient, nics: readonly PrivateNic[]) {
      plugged.set(serverId, { qmp, nics: new Map(nics.map((nic) => [nic.networkId, nic])) });
    },
    sync: (serverId: string, nics: PrivateNic[]) =>
      deps.withLock(serverId, async () => {
        const runtime = await deps.runtimeOf(serverId);
        const status = runtime ? await queryStatus(runtime.qmp).catch(() => null) : null;
        if (!runtime || !status || status.status === 'prelaunch') {
          plugged.delete(serverId);
          return;
        }
        let entry = plugged.get(serverId);
        if (!entry || entry.qmp !== runtime.qmp) plugged.set(serverId, (entry = { qmp: runtime.qmp, nics: new Map() }));
        for (const nic of nics)
          if (!entry.nics.has(nic.networkId)) {
            await plugPrivateNic(runtime.qmp, nic);
            entry.nics.set(nic.networkId, nic);
            deps.log.info({ server_id: serverId, network_id: nic.networkId, tap: nic.tap }, 'private NIC plugged');
          }
        for (const networkId of [...entry.nics.keys()])
          if (!nics.some((nic) => nic.networkId === networkId)) {
            await unplugPrivateNic(runtime.qmp, networkId, deps.unplugTimeoutMs);
            entry.nics.delete(networkId);
            deps.log.info({ server_id: serverId, network_id: networkId }, 'private NIC unplugged');
          }
      }),
  };
}
