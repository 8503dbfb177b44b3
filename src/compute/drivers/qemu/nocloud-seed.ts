/**
 * The NoCloud seed of an instance (cloud-init's `cidata` volume): meta-data with instance-id, hostname and
 * SSH keys, user-data as given (or an empty cloud-config), and network-config v2 when the server has an
 * address or private-network NICs (each matched by MAC: static address, the network's MTU and routes). Rendering is pure and goes through the `yaml` library; hostnames, keys and addresses with control or
 * line-separator characters are refused first. `writeSeedIso` packs the files with genisoimage (≈10 ms).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as stringifyYaml } from 'yaml';
import { invalid } from '../../../core/errors.ts';
import { unsafeTextCharacter } from '../../../core/text.ts';
import { isValidSshPublicKey } from '../../ssh-keys.ts';
import type { InstanceSpec } from '../driver.ts';
import { renderNetworkConfig, type PrivateNicConfig } from './network-config.ts';

const execFileAsync = promisify(execFile);

export interface SeedFiles {
  'meta-data': string;
  'user-data': string;
  'network-config'?: string;
}

/**
 * Every string goes out double-quoted (unambiguous in YAML 1.1 and 1.2: a MAC address is not a base-60
 * number, `no` is not false) and unfolded (a long RSA key stays on one line).
 */
const yamlOptions = { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 } as const;

/** The first character of `text` that may not go into a seed, described (`U+2028 at 27`), or null. Pure. */
export const unsafeSeedCharacter = unsafeTextCharacter;

/** Whether `text` is one OpenSSH public key line safe to put in a seed (src/compute/ssh-keys.ts). Pure. */
export const isSafeSshKey = isValidSshPublicKey;

const ipv4CidrPattern = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export interface SeedOptions {
  /** The public NIC's MAC (matched by the network-config). */
  mac?: string | null;
  /** The public NIC's MTU. */
  mtu?: number;
  /** Private-network NICs plugged at boot, in the order of their names (eth1, eth2, …). */
  privateNics?: readonly PrivateNicConfig[];
}

const refuse = (field: string, message: string) =>
  invalid(`the NoCloud seed refuses ${field}: ${message}`, {
    reason: 'unsafe_seed_text',
    fields: [{ field, message }],
  });

/**
 * Refuses (VmcError `invalid`, reason `unsafe_seed_text`) what must not reach the seed: a hostname or SSH
 * key with a control or line-separator character, a key that is not one OpenSSH key line, user-data with
 * NUL, an address or MAC that is not one. Pure.
 */
export function checkSeedInputs(spec: InstanceSpec, options: SeedOptions = {}): void {
  if (spec.hostname.length === 0 || spec.hostname.length > 253) throw refuse('hostname', 'must be 1-253 characters');
  const inHostname = unsafeSeedCharacter(spec.hostname);
  if (inHostname) throw refuse('hostname', `contains a control or line-separator character (${inHostname})`);
  spec.sshKeys.forEach((key, index) => {
    const inKey = unsafeSeedCharacter(key.trim());
    if (inKey) throw refuse(`sshKeys[${index}]`, `contains a control or line-separator character (${inKey})`);
    if (!isSafeSshKey(key)) throw refuse(`sshKeys[${index}]`, 'is not one OpenSSH public key line');
  });
  if (spec.userData?.includes('\0')) throw refuse('userData', 'contains NUL');
  if (spec.ipv4 !== null && !ipv4CidrPattern.test(spec.ipv4)) throw refuse('ipv4', 'is not an IPv4 address/prefix');
  if (options.mac && !macPattern.test(options.mac)) throw refuse('mac', 'is not a MAC address');
  (options.privateNics ?? []).forEach((nic, i) => {
    const field = `privateNics[${i}]`;
    if (!macPattern.test(nic.mac)) throw refuse(`${field}.mac`, 'is not a MAC address');
    if (!ipv4CidrPattern.test(nic.address)) throw refuse(`${field}.address`, 'is not an IPv4 address/prefix');
    if (!Number.isInteger(nic.mtu) || nic.mtu < 576 || nic.mtu > 9000)
      throw refuse(`${field}.mtu`, 'must be a whole number from 576 to 9000');
    nic.routes.forEach((route, j) => {
      if (!ipv4CidrPattern.test(route.destination) || !ipv4Pattern.test(route.gateway))
        throw refuse(`${field}.routes[${j}]`, 'is not an IPv4 destination/prefix via an IPv4 gateway');
    });
  });
}

/** The gateway of a /N network: its first host address (the host bridge's address). */
export function gatewayOf(cidr: string): string | null {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!match) return null;
  const prefix = Number(match[5]);
  const address = match.slice(1, 5).reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  const gateway = network + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(gateway / 2 ** shift) % 256).join('.');
}

/**
 * The seed files of an instance, rendered with the `yaml` library from plain objects (never by string
 * concatenation). Throws `invalid` (reason `unsafe_seed_text`) for inputs `checkSeedInputs` refuses. Pure.
 */
export function renderSeed(spec: InstanceSpec, options: SeedOptions = {}): SeedFiles {
  checkSeedInputs(spec, options);
  const keys = spec.sshKeys.map((key) => key.trim());
  const metaData = {
    'instance-id': spec.serverId,
    'local-hostname': spec.hostname,
    ...(keys.length > 0 ? { 'public-keys': keys } : {}),
  };
  const files: SeedFiles = {
    'meta-data': stringifyYaml(metaData, yamlOptions),
    'user-data': spec.userData ?? '#cloud-config\n{}\n',
  };
  const privateNics = options.privateNics ?? [];
  if (privateNics.length > 0) {
    const publicNic = spec.ipv4
      ? { mac: options.mac ?? null, address: spec.ipv4, gateway: gatewayOf(spec.ipv4) }
      : null;
    files['network-config'] = renderNetworkConfig(publicNic, [...privateNics]);
  } else if (spec.ipv4) {
    const gateway = gatewayOf(spec.ipv4);
    const eth0 = {
      ...(options.mac ? { match: { macaddress: options.mac }, 'set-name': 'eth0' } : {}),
      addresses: [spec.ipv4],
      ...(gateway ? { gateway4: gateway } : {}),
      ...(options.mtu ? { mtu: options.mtu } : {}),
    };
    files['network-config'] = stringifyYaml({ version: 2, ethernets: { eth0 } }, yamlOptions);
  }
  return files;
}

/** Writes `files` as an ISO 9660 volume labelled `cidata` at `isoPath`. */
export async function writeSeedIso(isoPath: string, files: SeedFiles, genisoimage = 'genisoimage'): Promise<void> {
  const staging = await mkdtemp(`${isoPath}.staging-`);
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(staging, name), content);
    await execFileAsync(genisoimage, ['-quiet', '-output', isoPath, '-volid', 'cidata', '-joliet', '-rock', staging]);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
