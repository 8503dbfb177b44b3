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

const skipReason = hasBinary('qemu-img') ? false : 'qemu-img is not installed (apt-get install qemu-utils)';

async function withDir(body: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-images-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

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

    assert.deepEqual((await store.list()).map((image) => image.slug), ['custom-a', 'custom-b', 'custom-iso']);
    assert.deepEqual(await store.require('custom-a'), a);
    assert.equal(await store.get('missing'), null);
    assert.equal(await store.remove('custom-b'), true);
    assert.equal(await store.get('custom-b'), null);
  }));

test('copies boot files of a directly booting image', { skip: skipReason }, () =>
  withDir(async (dir) => {
    const store = createImageStore({ dir: join(dir, 'store') });
    const disk = join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
    await writeFile(join(dir, 'vmlinuz'), 'kernel-bytes');
    await writeFile(join(dir, 'initrd'), 'initrd-bytes');
    const image = await store.importFile('kern', disk, { boot: { kernelPath: join(dir, 'vmlinuz'), initrdPath: join(dir, 'initrd'), append: 'console=ttyS0' } });
    assert.ok(image.boot);
    assert.equal(await readFile(image.boot.kernelPath, 'utf8'), 'kernel-bytes');
    assert.equal(await readFile(image.boot.initrdPath ?? '', 'utf8'), 'initrd-bytes');
    assert.equal(image.boot.append, 'console=ttyS0');
  }));

test('refuses what it must refuse, with clear errors and nothing left behind', { skip: skipReason }, () =>
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
      ['too large (stream)', () => store.importStream('big', Readable.from([Buffer.alloc(400 * 1024), Buffer.alloc(400 * 1024)])), 'invalid', 'image_too_large'],
      ['backing file', () => store.importFile('backed', withBacking), 'invalid', 'image_format_refused'],
      ['not whole sectors', () => store.importFile('odd', odd), 'invalid', 'image_format_refused'],
      ['checksum mismatch', () => store.importFile('sum', base, { expectedSha256: '0'.repeat(64) }), 'invalid', 'checksum_mismatch'],
      ['bad slug', () => store.importFile('../x', base), 'invalid', ''],
      ['catalog image missing here', () => store.require('debian-12'), 'unavailable', 'image_not_on_host'],
      ['unknown image', () => store.require('nope'), 'not_found', ''],
    ];
    for (const [name, attempt, code, reason] of refusals) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(isVmcError(error), name);
        assert.equal(error.code, code, name);
        if (reason) assert.equal(error.reason, reason, name);
        return true;
      });
    }
    await store.importFile('once', base);
    await assert.rejects(store.importFile('once', base), (error: unknown) => isVmcError(error) && error.code === 'conflict');
    assert.deepEqual((await store.list()).map((image) => image.slug), ['once']);
    assert.deepEqual(await readdir(join(dir, 'store', '.incoming')), [], 'failed imports leave no staging files');
  }));
