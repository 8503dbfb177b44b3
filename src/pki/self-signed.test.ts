import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../core/errors.ts';
import { fingerprintSha256 } from './fingerprint.ts';
import { selfSignedServerCertificate } from './self-signed.ts';
import { runCommand } from './test-support.ts';

test('the fingerprint is the one openssl x509 -fingerprint -sha256 prints', async () => {
  const made = await selfSignedServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    nowMs: Date.now(),
  });
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-fp-'));
  try {
    writeFileSync(join(dir, 'c.pem'), made.certPem);
    const result = await runCommand('openssl', [
      'x509',
      '-in',
      join(dir, 'c.pem'),
      '-noout',
      '-fingerprint',
      '-sha256',
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    const printed = result.stdout.trim().replace(/^sha256 Fingerprint=/i, '');
    assert.match(printed, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(made.fingerprintSha256, printed);
    assert.equal(fingerprintSha256(made.certPem), printed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a self-signed server certificate: its names, serverAuth, a year, and a key that matches', async () => {
  const nowMs = Date.now();
  const made = await selfSignedServerCertificate({ dnsNames: ['vmcloud.local'], ipAddresses: ['::1'], nowMs });
  const cert = new X509Certificate(made.certPem);
  assert.equal(cert.checkHost('vmcloud.local'), 'vmcloud.local');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.equal(cert.ca, false);
  assert.equal(cert.issuer, cert.subject);
  assert.ok(cert.verify(cert.publicKey), 'signed by its own key');
  assert.equal(made.notAfter, new Date(nowMs + 365 * 24 * 3600_000).toISOString());
  assert.ok(cert.checkPrivateKey(createPrivateKey(made.keyPem)));
  await assert.rejects(
    selfSignedServerCertificate({ dnsNames: [], ipAddresses: [], nowMs }),
    (e) => isVmcError(e) && e.code === 'invalid',
  );
});
