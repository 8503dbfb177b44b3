import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createKeyAndCsr } from './csr.ts';
import { hostIdOfCertificate, isControlPlaneCertificate } from './identity.ts';
import { issueControlPlaneCertificate, issueHostCertificate, issueServerCertificate } from './issue.ts';
import { selfSignedServerCertificate } from './self-signed.ts';
import { runCommand, startTlsServer, talk, testAuthority } from './test-support.ts';
import { tlsClientOptions, tlsServerOptions } from './tls-options.ts';
import type { CertificateAuthority } from './authority.ts';

async function hostCredentials(ca: CertificateAuthority, hostId: string) {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: hostId });
  const { certPem } = await issueHostCertificate(ca, csrPem, { hostId, nowMs: Date.now() });
  return { certPem, keyPem };
}

/** What the server saw: the peer's host id, or "control-plane", or "anonymous". */
const identify = (socket: TLSSocket) => {
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return 'anonymous';
  if (isControlPlaneCertificate(peer)) return 'control-plane';
  return `host ${hostIdOfCertificate(peer)}`;
};

test('agent → control plane: mutual TLS with a host certificate; the listener reads the host id', async () => {
  const ca = await testAuthority();
  const server = await issueServerCertificate(ca, {
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    nowMs: Date.now(),
  });
  const listener = await startTlsServer(
    tlsServerOptions({
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: ca.certPem,
      requestClientCertificate: true,
    }),
    identify,
  );
  try {
    const host = await hostCredentials(ca, 'host_par1_07');
    const outcome = await talk(listener.port, tlsClientOptions({ caPem: ca.certPem, ...host }));
    assert.equal(outcome.ok && outcome.greeting, 'host host_par1_07');
    assert.equal(outcome.ok && outcome.protocol, 'TLSv1.3');
    assert.deepEqual(listener.clientErrors, []);
  } finally {
    await listener.close();
  }
});

test('control plane → host API: the host checks the control-plane certificate, the client checks the host id', async () => {
  const ca = await testAuthority();
  const host = await hostCredentials(ca, 'host_fra1_02');
  const hostApi = await startTlsServer(
    tlsServerOptions({ ...host, caPem: ca.certPem, requestClientCertificate: true }),
    identify,
  );
  try {
    const controlPlane = await issueControlPlaneCertificate(ca, { nowMs: Date.now() });
    const client = { caPem: ca.certPem, certPem: controlPlane.certPem, keyPem: controlPlane.keyPem };
    const ok = await talk(hostApi.port, tlsClientOptions({ ...client, expectedHostId: 'host_fra1_02' }));
    assert.equal(ok.ok && ok.greeting, 'control-plane');

    const wrongHost = await talk(hostApi.port, tlsClientOptions({ ...client, expectedHostId: 'host_other' }));
    assert.equal(wrongHost.ok, false);
    assert.match(!wrongHost.ok ? wrongHost.error.message : '', /names host host_fra1_02, not host_other/);

    // Another host's certificate chains to the same CA: TLS accepts it, the identity check does not.
    const otherHost = await hostCredentials(ca, 'host_fra1_03');
    const asHost = await talk(
      hostApi.port,
      tlsClientOptions({ caPem: ca.certPem, ...otherHost, expectedHostId: 'host_fra1_02' }),
    );
    assert.equal(
      asHost.ok && asHost.greeting,
      'host host_fra1_03',
      'the host API must refuse what is not control-plane',
    );
  } finally {
    await hostApi.close();
  }
});

test('a client certificate of another CA, or none, is refused by a server requesting one', async () => {
  const ca = await testAuthority();
  const server = await issueServerCertificate(ca, { dnsNames: ['localhost'], ipAddresses: [], nowMs: Date.now() });
  const listener = await startTlsServer(
    tlsServerOptions({
      certPem: server.certPem,
      keyPem: server.keyPem,
      caPem: ca.certPem,
      requestClientCertificate: true,
    }),
    identify,
  );
  try {
    const foreign = await hostCredentials(await testAuthority('Foreign CA'), 'host_par1_07');
    const refused = await talk(listener.port, tlsClientOptions({ caPem: ca.certPem, ...foreign }));
    assert.equal(refused.ok, false);
    // The server drops the connection once the client's chain fails: the client sees it closed, no greeting.
    await listener.clientErrorCount(1);

    const anonymous = await talk(listener.port, tlsClientOptions({ caPem: ca.certPem }));
    assert.equal(anonymous.ok, false);
    await listener.clientErrorCount(2);
    assert.equal(listener.clientErrors.length, 2);
  } finally {
    await listener.close();
  }
});

test('a server of another CA is refused by the client', async () => {
  const ca = await testAuthority();
  const foreignServer = await issueServerCertificate(await testAuthority('Foreign'), {
    dnsNames: ['localhost'],
    ipAddresses: [],
    nowMs: Date.now(),
  });
  const listener = await startTlsServer(
    tlsServerOptions({ certPem: foreignServer.certPem, keyPem: foreignServer.keyPem, requestClientCertificate: false }),
    identify,
  );
  try {
    const outcome = await talk(listener.port, tlsClientOptions({ caPem: ca.certPem }));
    assert.equal(outcome.ok, false);
    assert.match(
      !outcome.ok ? String((outcome.error as NodeJS.ErrnoException).code) : '',
      /UNABLE_TO_VERIFY|SELF_SIGNED/,
    );
  } finally {
    await listener.close();
  }
});

test('TLS 1.2 is refused: a node client forcing it, and openssl s_client -tls1_2; -tls1_3 succeeds', async () => {
  const made = await selfSignedServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    nowMs: Date.now(),
  });
  const listener = await startTlsServer(
    tlsServerOptions({ certPem: made.certPem, keyPem: made.keyPem, requestClientCertificate: false }),
    identify,
  );
  try {
    const tls12 = await talk(listener.port, { ca: made.certPem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(tls12.ok, false);
    assert.match(!tls12.ok ? tls12.error.message : '', /protocol version|unsupported protocol/i);

    const connectTo = `127.0.0.1:${listener.port}`;
    const old = await runCommand('openssl', ['s_client', '-connect', connectTo, '-tls1_2']);
    assert.notEqual(old.exitCode, 0, 'openssl s_client -tls1_2 must fail');
    assert.match(old.stdout + old.stderr, /alert protocol version|no protocols available|unsupported protocol/i);

    const current = await runCommand('openssl', ['s_client', '-connect', connectTo, '-tls1_3']);
    // The handshake is what counts: the server may close right after it without close_notify, which
    // OpenSSL 3 reports as "unexpected eof" (exit 1) depending on who is faster — not a refusal.
    assert.match(current.stdout, /New, TLSv1\.3, Cipher is/, current.stderr);
    assert.ok(current.exitCode === 0 || /unexpected eof/i.test(current.stderr), current.stderr);
  } finally {
    await listener.close();
  }
});

test('serve --tls auto: an https client that pins the self-signed certificate connects and sees its fingerprint', async () => {
  const made = await selfSignedServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    nowMs: Date.now(),
  });
  const server = createServer(
    tlsServerOptions({ certPem: made.certPem, keyPem: made.keyPem, requestClientCertificate: false }),
    (_req, res) => res.end('ok'),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    const { status, body, fingerprint } = await new Promise<{ status: number; body: string; fingerprint: string }>(
      (resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/', agent: false, ...tlsClientOptions({ caPem: made.certPem }) },
          (res) => {
            const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    assert.equal(status, 200);
    assert.equal(body, 'ok');
    assert.equal(fingerprint, made.fingerprintSha256);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('tlsServerOptions refuses to request client certificates without a CA', () => {
  assert.throws(() => tlsServerOptions({ certPem: 'c', keyPem: 'k', requestClientCertificate: true }), /needs the CA/);
});
