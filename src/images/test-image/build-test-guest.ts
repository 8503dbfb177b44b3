/**
 * Builds the tiny test guest from Debian packages already on the host, without network and without root:
 * the cloud kernel (linux-image-cloud-amd64) and an initramfs made of busybox-static, the virtio/ACPI
 * kernel modules and our /init. The image maps onto "an image with a disk" as a *direct-boot image*: a
 * small qcow2 disk (a marker in its first bytes) plus kernel and initrd boot files in the image record.
 * Every server gets its own overlay of that disk; QEMU boots the kernel with `-kernel/-initrd/-append`.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { ImageStore } from '../image-store.ts';
import type { StoredImage } from '../image-record.ts';
import { cpioNewc, type CpioEntry } from './cpio-newc.ts';
import { guestInitScript, powerButtonAction, testDiskMarker } from './guest-init.ts';
import { moduleLoadOrder, parseModulesDep } from './module-order.ts';

export { guestMarkers, testDiskMarker } from './guest-init.ts';

const execFileAsync = promisify(execFile);

export const testImageSlug = 'vmcloud-test';

/** Kernel command line of the test image: serial console, quiet boot, panic → pvpanic (QEMU pauses). */
export const testImageAppend = 'console=ttyS0 quiet panic=-1';

/** virtio disks and NIC, ACPI power button, ISO 9660 for the NoCloud seed, pvpanic for crash reports. */
const guestModules = ['virtio_pci', 'virtio_blk', 'virtio_net', 'button', 'evdev', 'isofs', 'pvpanic-mmio'];

export interface BuildTestGuestOptions {
  outDir: string;
  /** Default: the newest /boot/vmlinuz-*-cloud-amd64. */
  kernelPath?: string;
  /** Default: /lib/modules/<version of the kernel>. */
  modulesDir?: string;
  /** Default: /bin/busybox (busybox-static). */
  busyboxPath?: string;
  qemuImgBinary?: string;
}

export interface TestGuestFiles {
  kernelPath: string;
  initrdPath: string;
  diskPath: string;
  kernelVersion: string;
  initrdBytes: number;
}

/** The newest Debian cloud kernel in `bootDir`, or null. */
export async function findCloudKernel(bootDir = '/boot'): Promise<string | null> {
  const names = (await readdir(bootDir).catch(() => [] as string[])).filter((name) =>
    /^vmlinuz-.*-cloud-amd64$/.test(name),
  );
  names.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const newest = names.at(-1);
  return newest ? join(bootDir, newest) : null;
}

export async function buildTestGuest(options: BuildTestGuestOptions): Promise<TestGuestFiles> {
  const kernelPath = options.kernelPath ?? (await findCloudKernel());
  if (!kernelPath) throw new Error('no /boot/vmlinuz-*-cloud-amd64: apt-get install linux-image-cloud-amd64');
  const kernelVersion = kernelPath
    .split('/')
    .pop()!
    .replace(/^vmlinuz-/, '');
  const modulesDir = options.modulesDir ?? join('/lib/modules', kernelVersion);
  const busybox = await readFile(options.busyboxPath ?? '/bin/busybox').catch(() => {
    throw new Error('no /bin/busybox: apt-get install busybox-static');
  });

  const modulePaths = moduleLoadOrder(
    parseModulesDep(await readFile(join(modulesDir, 'modules.dep'), 'utf8')),
    guestModules,
  );
  const entries: CpioEntry[] = [
    'bin',
    'sbin',
    'dev',
    'proc',
    'sys',
    'etc',
    'etc/acpi',
    'etc/acpi/PWRF',
    'lib',
    'lib/modules',
    'root',
    'tmp',
    'mnt',
  ].map((path) => ({ type: 'dir', path }));
  entries.push({ type: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  entries.push({ type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 });
  entries.push({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
  const moduleFiles: string[] = [];
  for (const path of modulePaths) {
    const file = path.split('/').pop()!;
    moduleFiles.push(file);
    entries.push({ type: 'file', path: `lib/modules/${file}`, data: await readFile(join(modulesDir, path)) });
  }
  entries.push({ type: 'file', path: 'init', data: Buffer.from(guestInitScript(moduleFiles)), mode: 0o755 });
  entries.push({ type: 'file', path: 'etc/acpi/PWRF/00000080', data: Buffer.from(powerButtonAction), mode: 0o755 });
  entries.push({ type: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') });
  entries.push({ type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\n') });

  await mkdir(options.outDir, { recursive: true });
  const initrd = gzipSync(cpioNewc(entries), { level: 1 });
  const initrdPath = join(options.outDir, 'initrd.gz');
  await writeFile(initrdPath, initrd);

  // The disk: 1 MiB raw holding the marker, converted to a compact qcow2.
  const rawPath = join(options.outDir, 'disk.raw');
  const disk = Buffer.alloc(1024 * 1024);
  disk.write(testDiskMarker, 0, 'latin1');
  await writeFile(rawPath, disk);
  const diskPath = join(options.outDir, 'disk.qcow2');
  await rm(diskPath, { force: true });
  await execFileAsync(options.qemuImgBinary ?? 'qemu-img', [
    'convert',
    '-q',
    '-f',
    'raw',
    '-O',
    'qcow2',
    rawPath,
    diskPath,
  ]);
  await rm(rawPath);
  return { kernelPath, initrdPath, diskPath, kernelVersion, initrdBytes: initrd.length };
}

/** Imports the built guest as image `vmcloud-test` (a direct-boot image: disk + kernel + initrd). */
export function importTestImage(store: ImageStore, files: TestGuestFiles, slug = testImageSlug): Promise<StoredImage> {
  return store.importFile(slug, files.diskPath, {
    name: `VMCloud test guest (busybox, kernel ${files.kernelVersion})`,
    boot: { kernelPath: files.kernelPath, initrdPath: files.initrdPath, append: testImageAppend },
  });
}
