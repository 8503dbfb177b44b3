/**
 * The NoCloud seed of an instance (cloud-init's `cidata` volume): meta-data with instance-id, hostname and
 * SSH keys, user-data as given (or an empty cloud-config), and network-config v2 when the server has an
 * address. Rendering is pure; `writeSeedIso` packs the files with genisoimage (≈10 ms).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { InstanceSpec } from '../driver.ts';

const execFileAsync = promisify(execFile);

export interface SeedFiles {
  'meta-data': string;
  'user-data': string;
  'network-config'?: string;
}

/** YAML double-quoted scalar (JSON strings are valid YAML). */
const yamlString = (value: string) => JSON.stringify(value);

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

export function renderSeed(spec: InstanceSpec, options: { mac?: string | null; mtu?: number } = {}): SeedFiles {
  const metaData = [
    `instance-id: ${yamlString(spec.serverId)}`,
    `local-hostname: ${yamlString(spec.hostname)}`,
    ...(spec.sshKeys.length > 0 ? ['public-keys:', ...spec.sshKeys.map((key) => `  - ${key.trim()}`)] : []),
  ].join('\n') + '\n';
  const files: SeedFiles = {
    'meta-data': metaData,
    'user-data': spec.userData ?? '#cloud-config\n{}\n',
  };
  if (spec.ipv4) {
    const gateway = gatewayOf(spec.ipv4);
    files['network-config'] = [
      'version: 2',
      'ethernets:',
      '  eth0:',
      ...(options.mac ? ['    match:', `      macaddress: ${yamlString(options.mac)}`, '    set-name: eth0'] : []),
      '    addresses:',
      `      - ${spec.ipv4}`,
      ...(gateway ? [`    gateway4: ${gateway}`] : []),
      ...(options.mtu ? [`    mtu: ${options.mtu}`] : []),
    ].join('\n') + '\n';
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
