import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isVmcError } from '../core/errors.ts';
import { createImageStore } from './image-store.ts';

function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skipReason = !hasBinary('qemu-img')
  ? 'qemu-img is not installed (apt-get install qemu-utils)'
  : !hasBinary('prlimit')
    ? 'prlimit is not installed (apt-get install util-linux)'
    : false;

async function withDir(body: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-images-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

test('imports qcow2, raw and ISO files with checksum and format; looks them up by slug', { skip: skipReason }, () =>
  withDir(async (dir) => {
    const store = createImageStore({ dir: join(dir, 'store') });
    const qcow2 = join(dir, 'a.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '64M']);
    const raw = join(dir, 'b.img');
    await writeFile(raw, Buffer.alloc(1024 * 1024, 7));
    await mkdir(join(dir, 'iso-src'));
    await writeFile(join(dir, 'iso-src', 'hello'), 'hi');
    const iso = join(dir, 'c.iso');
    execFileSync('genisoimage', ['-quiet', '-o', iso, '-V', 'TEST', join(dir, 'iso-src')]);

    const a = await store.importFile('custom-a', qcow2, { name: 'Custom A', expectedSha256: await sha256(qcow2) });
    assert.equal(a.format, 'qcow2');
    assert.equal(a.virtualSizeBytes, 64 * 1024 * 1024);
    assert.equal(a.sha256, await sha256(qcow2));
    assert.equal(a.name, 'Custom A');
    assert.equal((await stat(a.diskPath)).mode & 0o222, 0, 'stored disks are read-only');
    const b = await store.importFile('custom-b', raw);
    assert.equal(b.format, 'raw');
    const c = await store.importStream('custom-iso', Readable.from([await readFile(iso)]));
    assert.equal(c.format, 'iso');
    assert.match(c.diskPath, /disk\.iso$/);

    assert.deepEqual(
      (await store.list()).map((image) => image.slug),
      ['custom-a', 'custom-b', 'custom-iso'],
    );
    assert.deepEqual(await store.require('custom-a'), a);
    assert.equal(await store.get('missing'), null);
    assert.equal(await store.remove('custom-b'), true);
    assert.equal(await store.get('custom-b'), null);
  }),
);

test('copies boot files of a directly booting image', { skip: skipReason }, () =>
  withDir(async (dir) => {
    const store = createImageStore({ dir: join(dir, 'store') });
    const disk = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    await writeFile(join(dir, 'vmlinuz'), 'kernel-bytes');
    await writeFile(join(dir, 'initrd'), 'initrd-bytes');
    const image = await store.importFile('kern', disk, {
      boot: { kernelPath: join(dir, 'vmlinuz'), initrdPath: join(dir, 'initrd'), append: 'console=ttyS0' },
    });
    assert.ok(image.boot);
    assert.equal(await readFile(image.boot.kernelPath, 'utf8'), 'kernel-bytes');
    assert.equal(await readFile(image.boot.initrdPath ?? '', 'utf8'), 'initrd-bytes');
    assert.equal(image.boot.append, 'console=ttyS0');
  }),
);

test(
  'a custom image boots like its base image (bootLike), and refuses when the base is absent',
  { skip: skipReason },
  () =>
    withDir(async (dir) => {
      const store = createImageStore({ dir: join(dir, 'store') });
      const disk = join(dir, 'disk.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
      await writeFile(join(dir, 'vmlinuz'), 'kernel-bytes');
      await store.importFile('base', disk, {
        boot: { kernelPath: join(dir, 'vmlinuz'), append: 'console=ttyS0 quiet' },
      });
      const custom = await store.importFile('cimg_one', disk, { bootLike: 'base' });
      assert.ok(custom.boot);
      assert.equal(await readFile(custom.boot.kernelPath, 'utf8'), 'kernel-bytes');
      assert.ok(custom.boot.kernelPath.startsWith(join(dir, 'store', 'cimg_one')), 'its own copy of the kernel');
      assert.equal(custom.boot.append, 'console=ttyS0 quiet');
      const plain = await store.importFile('plain', disk);
      assert.equal(
        (await store.importFile('cimg_two', disk, { bootLike: 'plain' })).boot,
        null,
        'a disk that boots itself',
      );
      await assert.rejects(store.importFile('cimg_three', disk, { bootLike: 'missing' }), (error: unknown) => {
        assert.ok(isVmcError(error));
        assert.equal(error.reason, 'boot_image_missing');
        return true;
      });
      assert.equal(await store.get('cimg_three'), null, 'nothing imported');
      assert.equal(plain.boot, null);
    }),
);

test('refuses what it must refuse, with clear errors and nothing left behind', { skip: skipReason }, (t) =>
  withDir(async (dir) => {
    const store = createImageStore({ dir: join(dir, 'store'), maxBytes: 512 * 1024, catalogSlugs: ['debian-12'] });
    const big = join(dir, 'big.img');
    await writeFile(big, Buffer.alloc(1024 * 1024));
    const base = join(dir, 'base.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', base, '1M']);
    const withBacking = join(dir, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, withBacking]);
    const odd = join(dir, 'odd.img');
    await writeFile(odd, Buffer.alloc(1000));

    const refusals: [string, () => Promise<unknown>, string, string][] = [
      ['too large (file)', () => store.importFile('big', big), 'invalid', 'image_too_large'],
      [
        'too large (stream)',
        () => store.importStream('big', Readable.from([Buffer.alloc(400 * 1024), Buffer.alloc(400 * 1024)])),
        'invalid',
        'image_too_large',
      ],
      ['backing file', () => store.importFile('backed', withBacking), 'invalid', 'image_format_refused'],
      ['not whole sectors', () => store.importFile('odd', odd), 'invalid', 'image_format_refused'],
      [
        'checksum mismatch',
        () => store.importFile('sum', base, { expectedSha256: '0'.repeat(64) }),
        'invalid',
        'checksum_mismatch',
      ],
      ['bad slug', () => store.importFile('../x', base), 'invalid', ''],
      ['catalog image missing here', () => store.require('debian-12'), 'unavailable', 'image_not_on_host'],
      ['unknown image', () => store.require('nope'), 'not_found', ''],
    ];
    for (const [name, attempt, code, reason] of refusals) {
      await t.test(name, () =>
        assert.rejects(attempt(), (error: unknown) => {
          assert.ok(isVmcError(error));
          assert.equal(error.code, code);
          if (reason) assert.equal(error.reason, reason);
          return true;
        }),
      );
    }
    await store.importFile('once', base);
    await assert.rejects(
      store.importFile('once', base),
      (error: unknown) => isVmcError(error) && error.code === 'conflict',
    );
    assert.deepEqual(
      (await store.list()).map((image) => image.slug),
      ['once'],
    );
    assert.deepEqual(await readdir(join(dir, 'store', '.incoming')), [], 'failed imports leave no staging files');
  }),
);

/** A qemu-img that logs its argv to `log` and then runs `body` (default: the real qemu-img). */
async function loggingQemuImg(
  dir: string,
  body = 'exec qemu-img "$@"',
): Promise<{ binary: string; calls: () => Promise<string[]> }> {
  const binary = join(dir, 'qemu-img-logged');
  const log = join(dir, 'qemu-img.log');
  await writeFile(binary, `#!/bin/sh\necho "$*" >> '${log}'\n${body}\n`, { mode: 0o755 });
  return {
    binary,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean),
  };
}

test(
  'a qcow2 whose backing file or data file is a host file is refused from its header: qemu-img never opens it',
  { skip: skipReason },
  (t) =>
    withDir(async (dir) => {
      const qemuImg = await loggingQemuImg(dir);
      const store = createImageStore({ dir: join(dir, 'store'), qemuImgBinary: qemuImg.binary });
      const backedByPasswd = join(dir, 'passwd.qcow2');
      execFileSync('qemu-img', [
        'create',
        '-q',
        '-f',
        'qcow2',
        '-u',
        '-F',
        'raw',
        '-b',
        '/etc/passwd',
        backedByPasswd,
        '1M',
      ]);
      const dataFile = join(dir, 'data-file.qcow2');
      execFileSync('qemu-img', [
        'create',
        '-q',
        '-f',
        'qcow2',
        '-o',
        `data_file=${join(dir, 'outside.raw')}`,
        dataFile,
        '1M',
      ]);
      const cases: [string, string, RegExp][] = [
        ['backing file /etc/passwd', backedByPasswd, /backing file/],
        ['external data file', dataFile, /external data file/],
      ];
      for (const [name, path, message] of cases) {
        await t.test(name, () =>
          assert.rejects(
            store.importFile('evil', path),
            (error: unknown) =>
              isVmcError(error) && error.reason === 'image_format_refused' && message.test(error.message),
          ),
        );
      }
      assert.deepEqual(await qemuImg.calls(), [], 'qemu-img did not run on either file');

      const good = join(dir, 'good.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', good, '1M']);
      const raw = join(dir, 'good.img');
      await writeFile(raw, Buffer.alloc(4096));
      await store.importFile('good', good);
      await store.importFile('raw', raw);
      assert.deepEqual(
        (await qemuImg.calls()).map((call) => call.replace(/ \S+$/, ' <path>')),
        ['info -f qcow2 --output=json <path>', 'info -f raw --output=json <path>'],
        'the format is always given: qemu-img never probes',
      );
    }),
);

test('qemu-img info beyond its limits ends the import with a clear error, not a hang', { skip: skipReason }, (t) =>
  withDir(async (dir) => {
    const image = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1M']);
    await t.test('CPU: a qemu-img that spins is stopped at its CPU limit', async () => {
      const spinning = await loggingQemuImg(dir, 'while :; do :; done');
      const store = createImageStore({
        dir: join(dir, 'store-cpu'),
        qemuImgBinary: spinning.binary,
        qemuImgLimits: { cpuSeconds: 1 },
      });
      await assert.rejects(store.importFile('spin', image), (error: unknown) => {
        assert.ok(isVmcError(error));
        assert.equal(error.reason, 'image_inspection_limit');
        assert.match(error.message, /CPU limit of 1 s/);
        return true;
      });
    });
    await t.test('address space: a qemu-img that cannot fit is refused', async () => {
      const store = createImageStore({
        dir: join(dir, 'store-as'),
        qemuImgLimits: { addressSpaceBytes: 16 * 1024 * 1024 },
      });
      await assert.rejects(store.importFile('big', image), (error: unknown) => {
        assert.ok(isVmcError(error));
        assert.equal(error.reason, 'image_inspection_limit');
        assert.match(error.message, /address-space limit of 16 MiB/);
        return true;
      });
    });
    await t.test('wall clock: a qemu-img blocked without using CPU is killed after the timeout', async () => {
      const blocked = await loggingQemuImg(dir, 'exec sleep 600');
      const store = createImageStore({
        dir: join(dir, 'store-wall'),
        qemuImgBinary: blocked.binary,
        qemuImgLimits: { timeoutMs: 200 },
      });
      await assert.rejects(store.importFile('blocked', image), (error: unknown) => {
        assert.ok(isVmcError(error));
        assert.equal(error.reason, 'image_inspection_limit');
        assert.match(error.message, /did not finish within 0.2 s/);
        return true;
      });
    });
  }),
);
