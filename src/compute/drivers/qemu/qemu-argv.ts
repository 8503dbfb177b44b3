/**
 * The QEMU command line of one instance, as a pure function of its spec and where its files live.
 * Block devices and memory backends use QEMU's JSON syntax (no comma-escaping of paths); chardev paths
 * are comma-escaped. The VM starts paused (`-S`) so that the driver can pin vCPU threads before `cont`.
 */
import type { InstanceSpec } from '../driver.ts';
import { privateNicIds } from './private-nics.ts';

export type Accel = 'kvm' | 'tcg';

export interface InstancePaths {
  dir: string;
  specFile: string;
  stateFile: string;
  pidFile: string;
  qmpSocket: string;
  consoleSocket: string;
  /** Everything the guest wrote to its serial console during the current boot (`server logs`). */
  consoleLog: string;
  /** The console log of the previous boot. */
  previousConsoleLog: string;
  /** QEMU's own stdout/stderr. */
  qemuLog: string;
  disk: string;
  seed: string;
  pinFile: string;
  /** The QEMU guest agent's channel (virtio-serial `org.qemu.guest_agent.0`): fsfreeze for backups. */
  guestAgentSocket: string;
}

/** Direct kernel boot (images that ship a kernel and initrd, like the test image). */
export interface KernelBoot {
  kernel: string;
  initrd: string | null;
  append: string;
}

export interface NicConfig {
  /** Pre-created tap device (≤ 15 characters); QEMU needs no network privileges. */
  tapName: string;
  mac: string;
}

export interface QemuArgvOptions {
  accel: Accel;
  paths: InstancePaths;
  /** Kernel, initrd and command line when the image boots directly; null boots from disk or cdrom. */
  kernelBoot: KernelBoot | null;
  /** An ISO image attached as a bootable cdrom (installs from ISO onto the blank disk). */
  cdrom: string | null;
  /** Whether the NoCloud seed at `paths.seed` is attached. */
  seed: boolean;
  nic: NicConfig | null;
  /**
   * Private-network NICs plugged at boot (their taps made by the host's data plane beforehand), with the
   * ids a later hot-plug or unplug uses (private-nics.ts), so the NIC sync recognises them.
   */
  privateNics?: readonly { networkId: string; tap: string; mac: string }[];
  /**
   * The disk is a LUKS-encrypted qcow2: the 0600 file its passphrase is read from, deleted once QEMU
   * started (secret-files.ts). Only the file's name is in argv, never the key.
   */
  diskKeyFile?: string | null;
  /** `pc` (i440fx) boots ≈1 s faster than q35 under TCG; q35 for PCIe topologies. */
  machine?: 'pc' | 'q35';
}

const MiB = 1024 * 1024;

/** Escapes a value inside a QEMU `key=value,…` option (commas are doubled). */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** Splits `total` into `parts` whole numbers that differ by at most one, larger parts first. */
export function splitEvenly(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  const remainder = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < remainder ? 1 : 0));
}

function cpuRange(first: number, count: number): string {
  return count === 1 ? `${first}` : `${first}-${first + count - 1}`;
}

/**
 * Guest memory bound to the claimed host NUMA node(s): one node → one backend bound to it; several nodes →
 * one backend and one guest NUMA node per host node (memory and vCPUs split evenly, in order), so the guest
 * sees the same locality as its host memory.
 */
export function memoryArgs(spec: InstanceSpec): string[] {
  const backend = (id: string, sizeMiB: number, hostNodes: number[]) =>
    JSON.stringify({
      'qom-type': 'memory-backend-ram',
      id,
      size: sizeMiB * MiB,
      ...(hostNodes.length > 0 ? { 'host-nodes': hostNodes, policy: 'bind' } : {}),
    });
  const nodes = spec.numaNodes;
  if (nodes.length <= 1) return ['-m', `${spec.memoryMiB}M`, '-object', backend('mem0', spec.memoryMiB, nodes)];
  const memoryPerNode = splitEvenly(spec.memoryMiB, nodes.length);
  const cpusPerNode = splitEvenly(spec.vcpus, nodes.length);
  const args = ['-m', `${spec.memoryMiB}M`];
  let firstCpu = 0;
  nodes.forEach((hostNode, i) => {
    args.push('-object', backend(`mem${i}`, memoryPerNode[i], [hostNode]));
    const cpus = cpusPerNode[i] > 0 ? `,cpus=${cpuRange(firstCpu, cpusPerNode[i])}` : '';
    args.push('-numa', `node,nodeid=${i}${cpus},memdev=mem${i}`);
    firstCpu += cpusPerNode[i];
  });
  return args;
}

/** The secret object of the disk key (read by QEMU from `diskKeyFile`). */
export const diskKeySecretId = 'vmc-disk-key';

function blockdev(
  nodeName: string,
  filename: string,
  format: 'qcow2' | 'raw',
  readOnly: boolean,
  keySecret: string | null = null,
): string[] {
  const file = {
    driver: 'file',
    'node-name': `${nodeName}-file`,
    filename,
    ...(readOnly ? { 'read-only': true } : { discard: 'unmap' }),
  };
  const fmt = {
    driver: format,
    'node-name': nodeName,
    file: `${nodeName}-file`,
    ...(readOnly ? { 'read-only': true } : { discard: 'unmap' }),
    ...(keySecret ? { encrypt: { format: 'luks', 'key-secret': keySecret } } : {}),
  };
  return ['-blockdev', JSON.stringify(file), '-blockdev', JSON.stringify(fmt)];
}

export function qemuArgv(spec: InstanceSpec, options: QemuArgvOptions): string[] {
  const { paths } = options;
  const machine = options.machine ?? 'pc';
  const singleBackend = spec.numaNodes.length <= 1;
  const args: string[] = [
    '-name',
    `guest=${escapeOptionValue(spec.serverId)},debug-threads=on`,
    '-no-user-config',
    '-nodefaults',
    '-display',
    'none',
    '-machine',
    singleBackend ? `${machine},memory-backend=mem0` : machine,
  ];
  if (options.accel === 'kvm') args.push('-accel', 'kvm', '-cpu', 'host');
  else args.push('-accel', 'tcg,tb-size=32');
  args.push(
    '-sandbox',
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-smp',
    `${spec.vcpus},sockets=1,cores=${spec.vcpus},threads=1`,
    ...memoryArgs(spec),
    '-chardev',
    `socket,id=qmp,path=${escapeOptionValue(paths.qmpSocket)},server=on,wait=off`,
    '-mon',
    'chardev=qmp,mode=control',
    '-chardev',
    `socket,id=console0,path=${escapeOptionValue(paths.consoleSocket)},server=on,wait=off,logfile=${escapeOptionValue(paths.consoleLog)},logappend=off`,
    '-serial',
    'chardev:console0',
    // A guest agent, when the image runs one, freezes filesystems for application-consistent backups.
    '-chardev',
    `socket,id=qga0,path=${escapeOptionValue(paths.guestAgentSocket)},server=on,wait=off`,
    '-device',
    'virtio-serial-pci,id=vser0',
    '-device',
    'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
    '-pidfile',
    paths.pidFile,
    '-device',
    'pvpanic',
    '-action',
    'panic=pause',
    '-S',
  );
  const keyFile = options.diskKeyFile ?? null;
  if (keyFile) args.push('-object', `secret,id=${diskKeySecretId},file=${escapeOptionValue(keyFile)}`);
  args.push(...blockdev('disk0', paths.disk, 'qcow2', false, keyFile ? diskKeySecretId : null));
  // Direct kernel boot takes boot index 0 itself; otherwise the cdrom (when present) boots before the disk.
  const diskBootIndex = options.kernelBoot ? '' : `,bootindex=${options.cdrom ? 1 : 0}`;
  args.push('-device', `virtio-blk-pci,drive=disk0,id=vd0,serial=root${diskBootIndex}`);
  if (options.cdrom) {
    args.push(...blockdev('cd0', options.cdrom, 'raw', true));
    args.push('-device', `ide-cd,drive=cd0,id=cd0${options.kernelBoot ? '' : ',bootindex=0'}`);
  }
  if (options.seed) {
    args.push(...blockdev('seed0', paths.seed, 'raw', true));
    args.push('-device', 'virtio-blk-pci,drive=seed0,id=vd1,serial=cidata');
  }
  if (options.kernelBoot) {
    args.push('-kernel', options.kernelBoot.kernel);
    if (options.kernelBoot.initrd) args.push('-initrd', options.kernelBoot.initrd);
    args.push('-append', options.kernelBoot.append);
  }
  if (options.nic) {
    args.push(
      '-netdev',
      `tap,id=net0,ifname=${escapeOptionValue(options.nic.tapName)},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=net0,mac=${options.nic.mac},id=nic0`,
    );
  }
  for (const nic of options.privateNics ?? []) {
    const ids = privateNicIds(nic.networkId);
    args.push(
      '-netdev',
      `tap,id=${ids.netdev},ifname=${escapeOptionValue(nic.tap)},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=${ids.netdev},mac=${nic.mac},id=${ids.device}`,
    );
  }
  spec.gpus.forEach((address, i) => args.push('-device', `vfio-pci,host=${address},id=gpu${i}`));
  spec.vfs.forEach((address, i) => args.push('-device', `vfio-pci,host=${address},id=vf${i}`));
  return args;
}
