import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioNewc } from './cpio-newc.ts';

test('cpioNewc writes aligned newc headers and a trailer', () => {
  const archive = cpioNewc([{ type: 'file', path: '/init', data: Buffer.from('abc'), mode: 0o755 }]);
  const text = archive.toString('latin1');
  assert.ok(text.startsWith('070701'));
  assert.equal(text.slice(6 + 8, 6 + 16), (0o100755).toString(16).padStart(8, '0'), 'mode field');
  assert.equal(text.slice(6 + 6 * 8, 6 + 7 * 8), '00000003', 'file size field');
  assert.ok(text.includes('TRAILER!!!'));
  assert.equal(archive.length % 4, 0);
});

let hasCpio = true;
try {
  execFileSync('sh', ['-c', 'command -v cpio'], { stdio: 'ignore' });
} catch {
  hasCpio = false;
}

test('GNU cpio extracts what cpioNewc wrote', { skip: hasCpio ? false : 'cpio is not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-cpio-'));
  try {
    const archive = cpioNewc([
      { type: 'dir', path: 'bin' },
      { type: 'file', path: 'bin/busybox', data: Buffer.from('binary'), mode: 0o755 },
      { type: 'symlink', path: 'bin/sh', target: 'busybox' },
      { type: 'file', path: 'etc/odd-length', data: Buffer.from('12345') },
    ]);
    await writeFile(join(dir, 'a.cpio'), archive);
    execFileSync('sh', ['-c', 'mkdir out && cd out && cpio -idm --quiet < ../a.cpio'], { cwd: dir });
    assert.equal(await readFile(join(dir, 'out/bin/busybox'), 'utf8'), 'binary');
    assert.equal(await readlink(join(dir, 'out/bin/sh')), 'busybox');
    assert.equal(await readFile(join(dir, 'out/etc/odd-length'), 'utf8'), '12345');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
