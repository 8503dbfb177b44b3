import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../core/errors.ts';
import { fingerprintSha256 } from './fingerprint.ts';
import { loadOrCreateAutoTlsFiles } from './tls-auto-files.ts';

async function withDataDir(body: (dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-tls-auto-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = { dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] };

test('tls auto: made on first start with private modes, then reused with the same fingerprint', () =>
  withDataDir(async (dir) => {
    const nowMs = Date.now();
    const first = await loadOrCreateAutoTlsFiles({ directory: dir, ...names, nowMs });
    assert.equal(first.created, true);
    assert.equal(first.certPath, join(dir, 'tls', 'server.crt'));
    assert.equal(statSync(join(dir, 'tls')).mode & 0o777, 0o700);
    assert.equal(statSync(first.keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(first.certPath).mode & 0o777, 0o644);
    assert.equal(readFileSync(first.certPath, 'utf8'), first.certPem);
    assert.equal(first.fingerprintSha256, fingerprintSha256(first.certPem));

    const second = await loadOrCreateAutoTlsFiles({ directory: dir, ...names, nowMs: nowMs + 1000 });
    assert.equal(second.created, false);
    assert.equal(second.fingerprintSha256, first.fingerprintSha256);
    assert.equal(second.keyPem, first.keyPem);
  }));

test('tls auto: an expired certificate is made anew; a readable key is refused', () =>
  withDataDir(async (dir) => {
    const nowMs = Date.now();
    const first = await loadOrCreateAutoTlsFiles({ directory: dir, ...names, nowMs });
    const later = await loadOrCreateAutoTlsFiles({ directory: dir, ...names, nowMs: nowMs + 366 * 24 * 3600_000 });
    assert.equal(later.created, true);
    assert.notEqual(later.fingerprintSha256, first.fingerprintSha256);

    chmodSync(later.keyPath, 0o644);
    await assert.rejects(
      loadOrCreateAutoTlsFiles({ directory: dir, ...names, nowMs }),
      (e) => isVmcError(e) && e.reason === 'key_file_mode' && e.message.includes(`chmod 600 ${later.keyPath}`),
    );
  }));
