/**
 * SR-IOV virtual functions on a host, before QEMU starts a server that has one: the physical function sets
 * the VF's MAC and VLAN (with spoof checking on and trust off, so the guest can change neither), then the
 * VF is handed to vfio-pci through sysfs (`driver_override` + `drivers_probe`, after unbinding the host's
 * VF driver when one holds it). `renderVfSetup` is the pure part (table-tested as text); `createVfPreparer`
 * reads which driver holds each VF and carries the steps out. Needs SR-IOV hardware and root; the sim
 * driver and hosts without VFs never call it (docs/networking.md, "SR-IOV").
 */
import { createHash } from 'node:crypto';
import { readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { invalid } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { runCommand, type CommandRunner } from './host-network.ts';

/** One VF as the host sets it up. */
export interface VfSetup {
  /** The physical function's network device, e.g. `enp33s0f0`. */
  pf: string;
  /** The VF's number on its physical function. */
  vfIndex: number;
  /** The VF's PCI address, e.g. `0000:21:00.5`. */
  pciAddress: string;
  mac: string;
  /** 802.1Q VLAN id; 0: untagged. */
  vlan: number;
}

/** A host command (`ip …`) or a write to a sysfs file (paths relative to `/sys`'s parent: absolute). */
export type VfStep = { kind: 'ip'; args: string[] } | { kind: 'write'; path: string; value: string };

const pfPattern = /^[A-Za-z0-9._-]{1,15}$/;
const pciPattern = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;
const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/**
 * A locally administered unicast MAC (02:…) for a server's VF number `position` (its place among the
 * server's VFs), derived from the server id like the tap's and the private NICs' MACs: stable across
 * restarts and hosts, so the guest keeps its interface name and configuration.
 */
export function vfMac(serverId: string, position: number): string {
  const bytes = createHash('sha256').update(`vf/${serverId}/${position}`).digest().subarray(0, 5);
  return ['02', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

/** Refuses what must never reach a command line or a sysfs path (the desired state comes over the network). */
function checkVf(vf: VfSetup): void {
  if (!pfPattern.test(vf.pf)) throw invalid(`SR-IOV physical function ${JSON.stringify(vf.pf)} is not a device name`);
  if (!pciPattern.test(vf.pciAddress))
    throw invalid(`SR-IOV VF address ${JSON.stringify(vf.pciAddress)} is not a PCI address`);
  if (!Number.isInteger(vf.vfIndex) || vf.vfIndex < 0 || vf.vfIndex > 4095)
    throw invalid(`SR-IOV VF number ${vf.vfIndex} is out of range`);
  if (!macPattern.test(vf.mac)) throw invalid(`SR-IOV VF MAC ${JSON.stringify(vf.mac)} is not a MAC address`);
  if (!Number.isInteger(vf.vlan) || vf.vlan < 0 || vf.vlan > 4094)
    throw invalid(`SR-IOV VLAN ${vf.vlan} is out of range (0–4094)`);
}

/**
 * The steps that set one VF up, given the driver that holds it now (null: none). Already on vfio-pci: only
 * the MAC and VLAN are set again (idempotent; the PF keeps them while the VF is passed through).
 */
export function renderVfSetup(vf: VfSetup, observed: { boundDriver: string | null }): VfStep[] {
  checkVf(vf);
  const device = `/sys/bus/pci/devices/${vf.pciAddress}`;
  const steps: VfStep[] = [
    {
      kind: 'ip',
      args: [
        'link',
        'set',
        vf.pf,
        'vf',
        String(vf.vfIndex),
        'mac',
        vf.mac,
        'vlan',
        String(vf.vlan),
        'spoofchk',
        'on',
        'trust',
        'off',
      ],
    },
  ];
  if (observed.boundDriver === 'vfio-pci') return steps;
  if (observed.boundDriver !== null)
    steps.push({ kind: 'write', path: `${device}/driver/unbind`, value: vf.pciAddress });
  steps.push(
    { kind: 'write', path: `${device}/driver_override`, value: 'vfio-pci' },
    { kind: 'write', path: '/sys/bus/pci/drivers_probe', value: vf.pciAddress },
  );
  return steps;
}

/** The steps as a shell would read them: one line each (golden tests, logs, the operator's runbook). */
export function vfStepsText(steps: readonly VfStep[]): string {
  return steps
    .map((step) => (step.kind === 'ip' ? `ip ${step.args.join(' ')}` : `echo ${step.value} > ${step.path}`))
    .join('\n');
}

/** What the preparer needs of the driver's spec (`InstanceSpec`). */
export interface VfServer {
  serverId: string;
  vfDevices?: readonly { pciAddress: string; pf: string; vfIndex: number }[];
}

export interface VfPreparerOptions {
  /** The VLAN VFs are put on (the host's configuration); 0 (default): untagged. */
  vlan?: number;
  run?: CommandRunner;
  /** Where sysfs is (tests: a directory shaped like it); default `/`. */
  root?: string;
  log?: Logger;
}

export function createVfPreparer(options: VfPreparerOptions = {}) {
  const run = options.run ?? runCommand;
  const root = options.root ?? '/';
  const log = options.log ?? silentLogger;
  const vlan = options.vlan ?? 0;
  const boundDriver = async (pciAddress: string): Promise<string | null> => {
    try {
      return basename(await readlink(join(root, `sys/bus/pci/devices/${pciAddress}/driver`)));
    } catch {
      return null;
    }
  };
  return {
    /** Sets every VF of the server up; fails (and QEMU is not started) when a step fails. */
    async prepare(server: VfServer): Promise<void> {
      for (const [position, device] of (server.vfDevices ?? []).entries()) {
        const vf: VfSetup = { ...device, mac: vfMac(server.serverId, position), vlan };
        checkVf(vf);
        const steps = renderVfSetup(vf, { boundDriver: await boundDriver(vf.pciAddress) });
        for (const step of steps) {
          if (step.kind === 'ip') {
            const result = await run('ip', step.args);
            if (result.code !== 0) throw new Error(`ip ${step.args.join(' ')} failed: ${result.stderr.trim()}`);
          } else {
            await writeFile(join(root, step.path), step.value);
          }
        }
        log.info({ serverId: server.serverId, pf: vf.pf, vf: vf.vfIndex, pci: vf.pciAddress, vlan }, 'SR-IOV VF ready');
      }
    },
  };
}

export type VfPreparer = ReturnType<typeof createVfPreparer>;
