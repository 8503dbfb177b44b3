/**
 * Helpers for tests and benchmarks that run real QEMU guests: whether this machine can, a freshly built
 * test image in a temporary store, polling with a deadline, a small instance spec.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildTestGuest,
  createImageStore,
  findCloudKernel,
  importTestImage,
  type ImageStore,
} from '../../../images/index.ts';
import type { InstanceSpec } from '../driver.ts';
import type { InstanceSpecFile } from './instance-files.ts';
import { instancePaths } from './instance-paths.ts';

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why real-QEMU tests cannot run here (a skip message), or false when they can. */
export async function realQemuSkipReason(): Promise<string | false> {
  for (const [command, pkg] of [
    ['qemu-system-x86_64', 'qemu-system-x86'],
    ['qemu-img', 'qemu-utils'],
    ['genisoimage', 'genisoimage'],
    ['taskset', 'util-linux'],
  ]) {
    if (!hasCommand(command)) return `${command} is missing (apt-get install ${pkg}): real QEMU tests skipped`;
  }
  if (!(await findCloudKernel()))
    return 'no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64): real QEMU tests skipped';
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (apt-get install busybox-static): real QEMU tests skipped';
  return false;
}

/** A temporary image store holding the test image `vmcloud-test` (built in ≈0.2 s). */
export async function testImageStore(): Promise<{ store: ImageStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-img-'));
  const store = createImageStore({ dir: join(dir, 'store') });
  await importTestImage(store, await buildTestGuest({ outDir: join(dir, 'build') }));
  return { store, dir };
}

/** Polls `probe` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  pollMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export function testSpec(serverId: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    serverId,
    hostname: 'guest-1',
    vcpus: 1,
    memoryMiB: 256,
    diskGiB: 1,
    image: 'vmcloud-test',
    threads: [1],
    numaNodes: [0],
    gpus: [],
    vfs: [],
    // A well-formed public key line (its blob names its type) whose key material is made up.
    sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@vmcloud'],
    userData: null,
    ipv4: null,
    // Every disk is encrypted: the control plane sends a per-disk key with the desired state.
    diskKey: randomBytes(32).toString('base64'),
    ...overrides,
  };
}

/** The disk of a QEMU instance as the conformance suite reads it: spec.json and `qemu-img info -U`. */
export async function qemuDiskOf(
  stateDir: string,
  serverId: string,
): Promise<{ image: string; sizeGiB: number; diskGeneration: number }> {
  const paths = instancePaths(stateDir, serverId);
  const specFile = JSON.parse(await readFile(paths.specFile, 'utf8')) as InstanceSpecFile;
  const info = JSON.parse(
    execFileSync('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', paths.disk], { encoding: 'utf8' }),
  ) as { 'virtual-size': number };
  return {
    image: specFile.image.slug,
    sizeGiB: info['virtual-size'] / 1024 ** 3,
    diskGeneration: specFile.diskGeneration ?? 0,
  };
}
