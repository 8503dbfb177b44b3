import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isVmcError } from '../core/errors.ts';
import { createCertificateAuthority, loadCertificateAuthority } from './authority.ts';
import { createKeyAndCsr } from './csr.ts';
import { hostIdOfCertificate, isControlPlaneCertificate } from './identity.ts';
import { issueControlPlaneCertificate, issueHostCertificate, issueServerCertificate } from './issue.ts';
import { runCommand, testAuthority } from './test-support.ts';
import { x509 } from './x509.ts';

const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';
const hourMs = 3600_000;
const isReason = (reason: string) => (e: unknown) => isVmcError(e) && e.code === 'invalid' && e.reason === reason;

test('a host certificate names its host, serves and authenticates, and lasts 24 h by default', async () => {
  const ca = await testAuthority();
  const { csrPem, keyPem } = await createKeyAndCsr({ commonName: 'par1-host-07' });
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
  const nowMs = Date.now();
  const issued = await issueHostCertificate(ca, csrPem, { hostId: 'host_01jabc', nowMs });
  const cert = new X509Certificate(issued.certPem);

  assert.equal(hostIdOfCertificate(issued.certPem), 'host_01jabc');
  assert.equal(cert.subjectAltName, 'URI:urn:vmcloud:host:host_01jabc');
  assert.equal(cert.subject, 'CN=host_01jabc');
  assert.deepEqual([...(cert.keyUsage ?? [])].sort(), [serverAuth, clientAuth].sort());
  assert.equal(cert.ca, false);
  assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
  assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
  assert.equal(cert.validToDate.getTime(), Math.floor((nowMs + 24 * hourMs) / 1000) * 1000);
  assert.equal(issued.notAfter, new Date(nowMs + 24 * hourMs).toISOString());
  assert.equal(issued.fingerprintSha256, cert.fingerprint256);
  assert.equal(issued.serial, cert.serialNumber.toLowerCase());
  assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)), 'the key stays the agent’s');

  const short = await issueHostCertificate(ca, csrPem, { hostId: 'host_01jabc', nowMs, validityMs: hourMs });
  assert.equal(new X509Certificate(short.certPem).validToDate.getTime(), Math.floor((nowMs + hourMs) / 1000) * 1000);
  assert.notEqual(short.serial, issued.serial, 'serials are random');
});

test('openssl verifies host, control-plane and server certificates against the CA for their purposes', async () => {
  const ca = await testAuthority();
  const nowMs = Date.now();
  const host = await issueHostCertificate(ca, (await createKeyAndCsr({ commonName: 'h' })).csrPem, {
    hostId: 'host_x',
    nowMs,
  });
  const controlPlane = await issueControlPlaneCertificate(ca, { nowMs });
  const server = await issueServerCertificate(ca, { dnsNames: ['cp.example.net'], ipAddresses: ['127.0.0.1'], nowMs });
  const dir = mkdtempSync(join(tmpdir(), 'vmcloud-pki-'));
  try {
    const write = (name: string, pem: string) => {
      writeFileSync(join(dir, name), pem);
      return join(dir, name);
    };
    const caFile = write('ca.pem', ca.certPem);
    const verify = (file: string, purpose: string) =>
      runCommand('openssl', ['verify', '-CAfile', caFile, '-purpose', purpose, file]);
    const hostFile = write('host.pem', host.certPem);
    const cpFile = write('cp.pem', controlPlane.certPem);
    const serverFile = write('server.pem', server.certPem);
    assert.equal((await verify(hostFile, 'sslclient')).exitCode, 0);
    assert.equal((await verify(hostFile, 'sslserver')).exitCode, 0);
    assert.equal((await verify(cpFile, 'sslclient')).exitCode, 0);
    assert.notEqual(
      (await verify(cpFile, 'sslserver')).exitCode,
      0,
      'the control-plane certificate only authenticates',
    );
    assert.equal((await verify(serverFile, 'sslserver')).exitCode, 0);
    assert.notEqual((await verify(serverFile, 'sslclient')).exitCode, 0);
    const otherCa = write('other.pem', (await testAuthority('Other CA')).certPem);
    assert.notEqual(
      (await runCommand('openssl', ['verify', '-CAfile', otherCa, hostFile])).exitCode,
      0,
      'another CA does not vouch for it',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tampered, unreadable or non-ECDSA CSR is refused before anything is signed', async (t) => {
  const ca = await testAuthority();
  const { csrPem } = await createKeyAndCsr({ commonName: 'honest-host' });
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const at = der.indexOf(Buffer.from('honest-host'));
  const tamperedDer = Buffer.from(der);
  tamperedDer[at] = 'e'.charCodeAt(0);
  const tampered = new x509.Pkcs10CertificateRequest(tamperedDer).toString('pem');
  const rsaKeys = (await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const rsaCsr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: ['rsa-host'] }],
    keys: rsaKeys,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
  });
  const cases: Array<{ name: string; csrPem: string; reason: string }> = [
    { name: 'tampered subject', csrPem: tampered, reason: 'csr_signature' },
    {
      name: 'not a CSR',
      csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----',
      reason: 'csr_unreadable',
    },
    { name: 'RSA key', csrPem: rsaCsr.toString('pem'), reason: 'csr_key_type' },
  ];
  for (const c of cases) {
    await t.test(c.name, () =>
      assert.rejects(issueHostCertificate(ca, c.csrPem, { hostId: 'host_x', nowMs: Date.now() }), isReason(c.reason)),
    );
  }
});

test('issuing refuses a bad host id, validity out of range, or a certificate outliving its CA', async (t) => {
  const nowMs = Date.now();
  const ca = (await createCertificateAuthority({ commonName: 'Short CA', nowMs, validityMs: 2 * hourMs })).authority;
  const { csrPem } = await createKeyAndCsr({ commonName: 'h' });
  const cases: Array<{ name: string; hostId: string; validityMs?: number }> = [
    { name: 'not a host id', hostId: 'srv_123' },
    { name: 'URI injection', hostId: 'host_a,URI:urn:vmcloud:control-plane' },
    { name: 'validity under a minute', hostId: 'host_a', validityMs: 1000 },
    { name: 'beyond the CA', hostId: 'host_a', validityMs: 3 * hourMs },
  ];
  for (const c of cases) {
    await t.test(c.name, () =>
      assert.rejects(
        issueHostCertificate(ca, csrPem, { hostId: c.hostId, nowMs, validityMs: c.validityMs ?? hourMs }),
        (e) => isVmcError(e) && e.code === 'invalid',
      ),
    );
  }
});

test('the control-plane certificate names the control plane, never a host', async () => {
  const ca = await testAuthority();
  const issued = await issueControlPlaneCertificate(ca, { nowMs: Date.now() });
  const cert = new X509Certificate(issued.certPem);
  assert.equal(cert.subjectAltName, 'URI:urn:vmcloud:control-plane');
  assert.deepEqual(cert.keyUsage, [clientAuth]);
  assert.equal(isControlPlaneCertificate(issued.certPem), true);
  assert.equal(hostIdOfCertificate(issued.certPem), null);
  assert.ok(cert.checkPrivateKey(createPrivateKey(issued.keyPem)));
});

test('a server certificate carries its DNS names and IP addresses', async () => {
  const ca = await testAuthority();
  const issued = await issueServerCertificate(ca, {
    dnsNames: ['agents.par1.example.net', 'localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    nowMs: Date.now(),
  });
  const cert = new X509Certificate(issued.certPem);
  assert.equal(cert.checkHost('agents.par1.example.net'), 'agents.par1.example.net');
  assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(cert.checkIP('::1'), '::1');
  assert.equal(cert.checkHost('other.example.net'), undefined);
  assert.deepEqual(cert.keyUsage, [serverAuth]);
  const ipv6Only = await issueServerCertificate(ca, { dnsNames: [], ipAddresses: ['::1'], nowMs: Date.now() });
  assert.equal(new X509Certificate(ipv6Only.certPem).checkIP('::1'), '::1');
  await assert.rejects(
    issueServerCertificate(ca, { dnsNames: ['bad name'], ipAddresses: [], nowMs: Date.now() }),
    (e) => isVmcError(e) && e.code === 'invalid',
  );
  await assert.rejects(
    issueServerCertificate(ca, { dnsNames: [], ipAddresses: ['300.1.1.1'], nowMs: Date.now() }),
    (e) => isVmcError(e) && e.code === 'invalid',
  );
});

test('a CA reloaded from its certificate and key signs certificates that chain to it; a foreign key is refused', async () => {
  const nowMs = Date.now();
  const { authority, keyPkcs8 } = await createCertificateAuthority({ commonName: 'Reload CA', nowMs });
  const reloaded = await loadCertificateAuthority(authority.certPem, keyPkcs8);
  const issued = await issueHostCertificate(reloaded, (await createKeyAndCsr({ commonName: 'h' })).csrPem, {
    hostId: 'host_r',
    nowMs,
  });
  assert.ok(new X509Certificate(issued.certPem).verify(new X509Certificate(authority.certPem).publicKey));
  const other = await createCertificateAuthority({ commonName: 'Other', nowMs });
  await assert.rejects(
    loadCertificateAuthority(authority.certPem, other.keyPkcs8),
    (e) => isVmcError(e) && e.reason === 'ca_key_mismatch',
  );
});
