/**
 * The agent's identity on disk and over time, without a control plane: a fake link plays the renewal
 * endpoint with a test CA, a manual clock decides when renewal is due. (Joining over real TLS is tested
 * in test/agent-mtls.test.ts and test/agent-http.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock, isVmcError, silentLogger } from '../../core/index.ts';
import {
  createKeyAndCsr,
  fingerprintSha256,
  issueHostCertificate,
  type CertificateAuthority,
} from '../../pki/index.ts';
import { testAuthority } from '../../pki/test-support.ts';
import { hostShapes, topologyOfShape } from '../../inventory/index.ts';
import type { HostRegistration } from '../link.ts';
import { normalizeFingerprint } from './control-plane-client.ts';
import { credentialPaths, readStoredCredentials, storeCredentials } from './credential-files.ts';
import { createHostIdentity, establishHostIdentity } from './host-identity.ts';

const hourMs = 3600_000;
const registration: HostRegistration = {
  name: 'h1',
  region: 'fra1',
  driver: 'sim',
  cpuModel: 'test',
  topology: topologyOfShape(hostShapes['std-7543']),
  agentVersion: 'test',
  address: null,
};

async function joinedState(ca: CertificateAuthority, hostId: string, nowMs: number, validityMs = 24 * hourMs) {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-identity-'));
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
  const { certPem } = await issueHostCertificate(ca, csrPem, { hostId, nowMs, validityMs });
  await storeCredentials(dir, { caPem: ca.certPem, certPem, keyPem });
  return { dir, keyPem, certPem };
}

const failsWith = (code: string, reason: string) => (error: unknown) => {
  assert.ok(isVmcError(error), String(error));
  assert.deepEqual([error.code, error.reason], [code, reason], error.message);
  return true;
};

test('normalizeFingerprint: colons, case and a sha256: prefix do not matter', async (t) => {
  const cases = [
    { name: 'openssl form', input: 'AB:CD:EF', expected: 'abcdef' },
    { name: 'lower case, no colons', input: 'abcdef', expected: 'abcdef' },
    { name: 'sha256: prefix', input: 'sha256:AB:cd:EF', expected: 'abcdef' },
    { name: 'spaces', input: ' ab cd ef ', expected: 'abcdef' },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(normalizeFingerprint(c.input), c.expected));
});

test('the identity is stored in one 0600 file with the key and certificate, the directory 0700, and read back', async () => {
  const ca = await testAuthority();
  const { dir, keyPem, certPem } = await joinedState(ca, 'host_one', Date.now());
  try {
    const paths = credentialPaths(dir);
    assert.equal((await stat(paths.directory)).mode & 0o777, 0o700);
    assert.equal((await stat(paths.keyAndCert)).mode & 0o777, 0o600);
    assert.equal(await readFile(paths.ca, 'utf8'), ca.certPem);
    const read = await readStoredCredentials(dir);
    assert.deepEqual(
      [read?.hostId, read?.keyPem.trimEnd(), read?.certPem.trimEnd(), read?.caPem],
      ['host_one', keyPem.trimEnd(), certPem.trimEnd(), ca.certPem],
    );
    await chmod(paths.keyAndCert, 0o640);
    await assert.rejects(readStoredCredentials(dir), failsWith('invalid', 'key_file_mode'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(await readStoredCredentials(join(tmpdir(), 'vmc-never-joined-dir')), null);
});

test('a restart uses the stored identity without a token; a stored CA other than --ca-sha256 is refused', async () => {
  const ca = await testAuthority();
  const clock = createManualClock(Date.now());
  const { dir } = await joinedState(ca, 'host_two', clock.nowMs());
  const base = { stateDir: dir, controlPlaneUrl: 'https://127.0.0.1:1', registration, clock, log: silentLogger };
  try {
    const reused = await establishHostIdentity(base);
    assert.equal(reused.joined, null);
    assert.equal(reused.credentials.hostId, 'host_two');
    const same = await establishHostIdentity({ ...base, caSha256: fingerprintSha256(ca.certPem).toLowerCase() });
    assert.equal(same.credentials.hostId, 'host_two');
    await assert.rejects(
      establishHostIdentity({ ...base, caSha256: '00'.repeat(32) }),
      failsWith('unavailable', 'control_plane_untrusted'),
    );
    // Off for longer than the certificate's life: a rotation token is needed, and the error says how.
    clock.advanceMs(25 * hourMs);
    await assert.rejects(establishHostIdentity(base), (error: unknown) => {
      failsWith('unauthenticated', 'host_certificate_expired')(error);
      assert.match((error as Error).message, /--host-id host_two/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('joining needs a token and the CA fingerprint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-identity-'));
  const base = {
    stateDir: dir,
    controlPlaneUrl: 'https://127.0.0.1:1',
    registration,
    clock: createManualClock(Date.now()),
    log: silentLogger,
  };
  try {
    await assert.rejects(establishHostIdentity(base), failsWith('unauthenticated', 'join_token_required'));
    await assert.rejects(
      establishHostIdentity({ ...base, joinToken: 'vmc_x' }),
      failsWith('invalid', 'ca_fingerprint_required'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('renewal: not before two thirds of the lifetime; then a new key and certificate, stored before use, listeners told', async () => {
  const ca = await testAuthority();
  const clock = createManualClock(Date.now());
  const { dir } = await joinedState(ca, 'host_three', clock.nowMs());
  const csrs: string[] = [];
  const link = {
    async renew(csrPem: string) {
      csrs.push(csrPem);
      const { certPem } = await issueHostCertificate(ca, csrPem, { hostId: 'host_three', nowMs: clock.nowMs() });
      return { certPem, caPem: ca.certPem };
    },
  };
  try {
    const stored = (await readStoredCredentials(dir))!;
    const identity = createHostIdentity({ stateDir: dir, credentials: stored, link, clock, log: silentLogger });
    const told: string[] = [];
    identity.onRenewed((credentials) => told.push(credentials.certPem));

    clock.advanceMs(15 * hourMs);
    assert.equal(await identity.renewIfDue(), false, 'at 15 h of 24 h: not yet');
    assert.equal(csrs.length, 0);
    clock.advanceMs(2 * hourMs);
    assert.equal(await identity.renewIfDue(), true, 'at 17 h: due');
    const renewed = identity.current();
    assert.notEqual(renewed.certPem, stored.certPem);
    assert.notEqual(renewed.keyPem, stored.keyPem, 'a fresh key with every renewal');
    assert.equal(renewed.hostId, 'host_three');
    assert.deepEqual(told, [renewed.certPem]);
    assert.deepEqual(await readStoredCredentials(dir), renewed, 'stored before use');
    assert.equal(await identity.renewIfDue(), false, 'the new certificate is not due');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('renewal refuses a certificate for another host or from another CA, and keeps the current identity', async () => {
  const ca = await testAuthority();
  const other = await testAuthority('Other CA');
  const clock = createManualClock(Date.now());
  const { dir } = await joinedState(ca, 'host_four', clock.nowMs());
  try {
    const stored = (await readStoredCredentials(dir))!;
    for (const [what, issuer, hostId] of [
      ['another host', ca, 'host_other'],
      ['another CA', other, 'host_four'],
    ] as const) {
      const link = {
        async renew(csrPem: string) {
          const { certPem } = await issueHostCertificate(issuer, csrPem, { hostId, nowMs: clock.nowMs() });
          return { certPem, caPem: ca.certPem };
        },
      };
      const identity = createHostIdentity({ stateDir: dir, credentials: stored, link, clock, log: silentLogger });
      await assert.rejects(identity.renew(), failsWith('unavailable', 'control_plane_untrusted'), what);
      assert.deepEqual(identity.current(), stored, what);
      assert.deepEqual(await readStoredCredentials(dir), stored, what);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
