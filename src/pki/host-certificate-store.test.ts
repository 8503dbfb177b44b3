import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createManualClock } from '../core/clock.ts';
import { createTestDatabase, testDialects } from '../db/test-helpers.ts';
import { createKeyAndCsr } from './csr.ts';
import { createHostCertificateStore } from './host-certificate-store.ts';
import { serialOfCertificate } from './identity.ts';
import { issueHostCertificate } from './issue.ts';
import { testAuthority } from './test-support.ts';

for (const dialect of testDialects()) {
  test(`host certificates: recorded, looked up by the serial TLS reports, revoked by serial or host (${dialect})`, async () => {
    const t = await createTestDatabase(dialect);
    try {
      const clock = createManualClock(Date.UTC(2026, 5, 1));
      const store = createHostCertificateStore({ db: t.db, clock });
      const ca = await testAuthority();
      const issue = async (hostId: string) => {
        const issued = await issueHostCertificate(ca, (await createKeyAndCsr({ commonName: hostId })).csrPem, {
          hostId,
          nowMs: Date.now(),
        });
        await store.record(hostId, issued);
        return issued;
      };
      const a1 = await issue('host_a');
      const a2 = await issue('host_a');
      const b1 = await issue('host_b');

      // node:tls reports serials upper-case (PeerCertificate.serialNumber): both forms find the row.
      const peerSerial = new X509Certificate(a1.certPem).serialNumber;
      assert.equal(peerSerial, peerSerial.toUpperCase());
      const status = await store.statusOf(peerSerial);
      assert.deepEqual(status, {
        serial: a1.serial,
        hostId: 'host_a',
        fingerprintSha256: a1.fingerprintSha256,
        notBefore: a1.notBefore,
        notAfter: a1.notAfter,
        revokedAt: null,
      });
      assert.equal(serialOfCertificate(a1.certPem), a1.serial);
      assert.equal(await store.statusOf('4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), null);
      assert.equal(await store.isRevoked(peerSerial), false);

      assert.equal(await store.revokeSerial(peerSerial), true);
      assert.equal(await store.isRevoked(a1.serial), true);
      assert.equal((await store.statusOf(a1.serial))?.revokedAt, clock.nowIso());
      assert.equal(await store.revokeSerial(a1.serial), false, 'revoked already');
      assert.equal(await store.isRevoked(a2.serial), false);

      clock.advanceMs(1000);
      assert.equal(await store.revokeHost('host_a'), 1, 'only the one still valid');
      assert.equal(await store.isRevoked(a2.serial), true);
      assert.equal(await store.isRevoked(b1.serial), false, 'other hosts untouched');
      assert.deepEqual((await store.listForHost('host_a')).map((r) => r.serial).sort(), [a1.serial, a2.serial].sort());

      assert.equal(await store.deleteExpired(a1.notAfter), 0);
      assert.equal(await store.deleteExpired(new Date(Date.parse(b1.notAfter) + 1).toISOString()), 3);
      assert.deepEqual(await store.listForHost('host_b'), []);
    } finally {
      await t.dispose();
    }
  });
}
