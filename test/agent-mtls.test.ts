/**
 * The agent listener's trust boundary over real TLS on loopback, with the agent's own client code in this
 * process: TLS 1.3 only; a join token works once; a request without a certificate of the CA, or with a
 * certificate of another host, is refused and changes nothing; renewal; revoking a host token revokes the
 * host's certificates and takes it down; rotation tokens; key-store rotation. Both dialects.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { testDialects } from '../src/db/test-helpers.ts';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import {
  createKeyAndCsr,
  issueControlPlaneCertificate,
  issueHostCertificate,
  loadOrCreateCertificateAuthority,
  tlsClientOptions,
} from '../src/pki/index.ts';
import { runCommand, testAuthority } from '../src/pki/test-support.ts';
import {
  createMtlsLink,
  fetchTrustedCa,
  httpsRequest,
  joinControlPlane,
  readText,
  type HostCredentials,
} from '../src/agent/mtls/index.ts';
import type { HostRegistration } from '../src/agent/index.ts';
import { systemClock } from '../src/core/index.ts';
import { runCli } from '../src/cli/main.ts';
import { startTestControlPlane, type TestControlPlane } from './helpers.ts';

const topology = topologyOfShape(hostShapes['std-7543']);

function registrationOf(name: string, address: string | null = null): HostRegistration {
  return {
    name,
    region: 'fra1',
    driver: 'sim',
    cpuModel: 'test',
    topology,
    agentVersion: 'test',
    address,
  };
}

for (const dialect of testDialects()) {
  describe(`the agent listener over mutual TLS (${dialect})`, () => {
    let t: TestControlPlane;
    let agentUrl: string;
    let caPem: string;

    /** Real HTTPS to the agent listener with the given client TLS options. */
    async function call(
      method: string,
      path: string,
      tls: object,
      body?: unknown,
      headers: Record<string, string> = {},
    ) {
      const response = await httpsRequest({
        method,
        url: agentUrl + path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        tls,
      });
      const text = await readText(response);
      return { status: response.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) };
    }

    const asHost = (credentials: HostCredentials) =>
      tlsClientOptions({
        caPem: credentials.caPem,
        certPem: credentials.certPem,
        keyPem: credentials.keyPem,
        expectControlPlane: true,
      });

    async function hostToken(name: string, hostId?: string): Promise<{ id: string; secret: string }> {
      const created = await t.call('POST', '/v1/host-tokens', {
        token: t.secrets.operatorToken,
        body: { name, ...(hostId ? { host_id: hostId } : {}) },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return { id: created.body.token.id, secret: created.body.secret };
    }

    async function join(name: string, secret: string): Promise<HostCredentials & { created: boolean }> {
      const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
      const joined = await joinControlPlane({
        controlPlaneUrl: agentUrl,
        caPem,
        joinToken: secret,
        registration: registrationOf(name),
        csrPem,
      });
      return { hostId: joined.hostId, caPem: joined.caPem, certPem: joined.certPem, keyPem, created: joined.created };
    }

    const hostRow = async (hostId: string) => JSON.stringify(await t.cp.services.inventory.getHost(hostId));

    before(async () => {
      t = await startTestControlPlane(dialect, { fleet: 'none', hostDownAfterMs: 60_000 });
      agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
      caPem = await fetchTrustedCa(agentUrl, t.cp.hostTrust.caFingerprintSha256);
    });

    after(async () => {
      await t.dispose();
    });

    test('TLS 1.3 only: openssl s_client -tls1_2 is refused, -tls1_3 completes with the control-plane certificate', async () => {
      const connectTo = agentUrl.replace('https://', '');
      const old = await runCommand('openssl', ['s_client', '-connect', connectTo, '-tls1_2']);
      assert.notEqual(old.exitCode, 0, 'openssl s_client -tls1_2 must fail');
      assert.match(old.stdout + old.stderr, /alert protocol version|no protocols available|unsupported protocol/i);
      assert.doesNotMatch(old.stdout, /New, TLSv1\.2/);

      const caFile = joinPath(t.dataDir, 'hosts-ca.pem');
      writeFileSync(caFile, caPem);
      const current = await runCommand('openssl', ['s_client', '-connect', connectTo, '-tls1_3', '-CAfile', caFile]);
      assert.match(current.stdout, /New, TLSv1\.3, Cipher is/);
      assert.match(current.stdout, /subject=CN ?= ?vmcloud-control-plane/);
      assert.match(current.stdout, /Verify return code: 0 \(ok\)/, 'the chain verifies against the hosts CA');
      assert.match(current.stdout, /Acceptable client certificate CA names\s+CN ?= ?VMCloud hosts CA/);
    });

    test('GET /v1/agent/ca needs no certificate; a wrong fingerprint is refused by the agent', async () => {
      const answer = await call('GET', '/v1/agent/ca', { rejectUnauthorized: false });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.ca_pem, t.cp.hostTrust.caPem);
      assert.equal(answer.body.ca_sha256, t.cp.hostTrust.caFingerprintSha256);
      await assert.rejects(
        fetchTrustedCa(agentUrl, '00'.repeat(32)),
        (error: Error & { reason?: string }) =>
          error.reason === 'control_plane_untrusted' && /refusing to join/.test(error.message),
      );
      // Lower case and without colons is the same fingerprint.
      assert.equal(
        await fetchTrustedCa(agentUrl, t.cp.hostTrust.caFingerprintSha256.replace(/:/g, '').toLowerCase()),
        caPem,
      );
    });

    test('a control plane with another CA is refused by an agent that pinned this one', async () => {
      const foreign = await testAuthority('Foreign CA');
      const { csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
      await assert.rejects(
        joinControlPlane({
          controlPlaneUrl: agentUrl,
          caPem: foreign.certPem,
          joinToken: (await hostToken('never-used')).secret,
          registration: registrationOf('never-joined'),
          csrPem,
        }),
        (error: Error & { reason?: string }) => error.reason === 'control_plane_untrusted',
      );
      const hosts = await t.cp.services.inventory.listHosts();
      assert.ok(!hosts.some((h) => h.name === 'never-joined'));
    });

    test('a join token works once; a refused join (bad CSR) does not consume it', async () => {
      const token = await hostToken('once');
      const badCsr = await call(
        'POST',
        '/v1/agent/join',
        tlsClientOptions({ caPem, expectControlPlane: true }),
        { ...registrationOf('once-1'), cpu_model: 'x', agent_version: 'x', csr: 'not a csr' },
        { authorization: `Bearer ${token.secret}` },
      );
      assert.equal(badCsr.status, 400, JSON.stringify(badCsr.body));

      const first = await join('once-1', token.secret);
      assert.equal(first.created, true);
      for (const name of ['once-1', 'once-2']) {
        await assert.rejects(
          join(name, token.secret),
          (error: Error & { code?: string }) => error.code === 'unauthenticated',
          `a second join as ${name} is refused`,
        );
      }
      const hosts = await t.cp.services.inventory.listHosts();
      assert.deepEqual(
        hosts.filter((h) => h.name.startsWith('once-')).map((h) => h.name),
        ['once-1'],
      );
      // The consumed token stays as the host's credential record: bound, not revoked, revocable.
      const tokens = (await t.call('GET', '/v1/host-tokens', { token: t.secrets.operatorToken })).body.tokens;
      const row = tokens.find((x: { id: string }) => x.id === token.id);
      assert.deepEqual([row.host_id, row.revoked_at], [first.hostId, null]);
      assert.equal((await t.cp.hostTrust.certificates.listForHost(first.hostId)).length, 1);
      // The join is in the audit log, with the token that made it.
      const audited = await t.cp.db
        .selectFrom('audit_log')
        .select(['actor_token_id', 'resource_id', 'outcome'])
        .where('action', '=', 'POST /v1/agent/join')
        .where('resource_id', '=', first.hostId)
        .execute();
      assert.deepEqual(
        audited.map((row) => ({ ...row })),
        [{ actor_token_id: token.id, resource_id: first.hostId, outcome: 'success' }],
      );
    });

    test('a missing, foreign or self-signed client certificate is refused (401) and changes nothing', async () => {
      const host = await join('cert-check', (await hostToken('cert-check')).secret);
      const before = await hostRow(host.hostId);
      const foreign = await testAuthority('Foreign CA');
      const foreignKey = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
      const foreignCert = await issueHostCertificate(foreign, foreignKey.csrPem, {
        hostId: host.hostId,
        nowMs: Date.now(),
      });
      // A certificate of the right CA but never registered (made with the CA key outside the control plane).
      const unregistered = await issueHostCertificate(t.cp.hostTrust.authority, foreignKey.csrPem, {
        hostId: host.hostId,
        nowMs: Date.now(),
      });
      const clients = {
        none: tlsClientOptions({ caPem, expectControlPlane: true }),
        'another CA': tlsClientOptions({
          caPem,
          certPem: foreignCert.certPem,
          keyPem: foreignKey.keyPem,
          expectControlPlane: true,
        }),
        'not in the register': tlsClientOptions({
          caPem,
          certPem: unregistered.certPem,
          keyPem: foreignKey.keyPem,
          expectControlPlane: true,
        }),
      };
      const base = `/v1/agent/hosts/${host.hostId}`;
      for (const [what, tls] of Object.entries(clients)) {
        for (const [method, path, body] of [
          ['POST', `${base}/heartbeat`, undefined],
          ['GET', `${base}/desired`, undefined],
          ['POST', `${base}/report`, { observed: [], full: true }],
          ['POST', `${base}/register`, { ...registrationOf('cert-check', 'https://127.0.0.1:9') }],
          ['POST', `${base}/certificate`, { csr: foreignKey.csrPem }],
          ['POST', `${base}/traffic`, { observations: [] }],
        ] as const) {
          const refused = await call(method, path, tls, body === undefined ? undefined : bodyOf(body));
          assert.equal(refused.status, 401, `${what}: ${method} ${path}`);
          assert.equal(refused.body.reason, 'host_certificate_required');
        }
      }
      assert.equal(await hostRow(host.hostId), before, 'the host row did not change');
      assert.equal((await t.cp.hostTrust.certificates.listForHost(host.hostId)).length, 1, 'no certificate issued');
      // The host's own certificate works.
      assert.equal((await call('POST', `${base}/heartbeat`, asHost(host))).status, 204);
    });

    test("host A's certificate on host B's routes is refused (403) and changes nothing", async () => {
      const a = await join('host-a', (await hostToken('host-a')).secret);
      const b = await join('host-b', (await hostToken('host-b')).secret);
      const before = await hostRow(b.hostId);
      const csr = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
      const base = `/v1/agent/hosts/${b.hostId}`;
      for (const [method, path, body] of [
        ['POST', `${base}/heartbeat`, undefined],
        ['GET', `${base}/desired`, undefined],
        ['POST', `${base}/report`, { observed: [], full: true }],
        ['POST', `${base}/register`, registrationOf('host-b', 'https://127.0.0.1:9')],
        ['POST', `${base}/certificate`, { csr: csr.csrPem }],
        ['POST', `${base}/traffic`, { observations: [] }],
      ] as const) {
        const refused = await call(method, path, asHost(a), body === undefined ? undefined : bodyOf(body));
        assert.equal(refused.status, 403, `${method} ${path}`);
        assert.equal(refused.body.reason, 'host_mismatch');
      }
      // On its own route, A may not take B's name either.
      const renamed = await call(
        'POST',
        `/v1/agent/hosts/${a.hostId}/register`,
        asHost(a),
        bodyOf(registrationOf('host-b')),
      );
      assert.equal(renamed.status, 403);
      assert.equal(await hostRow(b.hostId), before, "B's row did not change");
      assert.equal((await t.cp.hostTrust.certificates.listForHost(b.hostId)).length, 1);
      assert.equal((await t.cp.hostTrust.certificates.listForHost(a.hostId)).length, 1);
    });

    test('renewal issues a new certificate; the old one keeps working until it expires', async () => {
      let current = await join('renewing', (await hostToken('renewing')).secret);
      const old = current;
      const link = createMtlsLink({ controlPlaneUrl: agentUrl, credentials: () => current });
      try {
        const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
        const renewed = await link.renew(csrPem);
        assert.notEqual(renewed.certPem, old.certPem);
        assert.equal(renewed.caPem, caPem);
        current = { ...old, certPem: renewed.certPem, keyPem };
        await link.heartbeat(current.hostId);
        assert.equal((await call('POST', `/v1/agent/hosts/${old.hostId}/heartbeat`, asHost(old))).status, 204);
        const records = await t.cp.hostTrust.certificates.listForHost(old.hostId);
        assert.equal(records.length, 2);
        assert.ok(records.every((r) => r.revokedAt === null));
      } finally {
        link.close();
      }
    });

    test("revoking a host token revokes the host's certificates: refused at once, down at the next housekeeping pass; a rotation token re-joins it", async () => {
      const token = await hostToken('revoked');
      const host = await join('revoked', token.secret);
      const link = createMtlsLink({ controlPlaneUrl: agentUrl, credentials: () => host });
      try {
        await link.heartbeat(host.hostId);
        assert.equal((await t.cp.services.inventory.getHost(host.hostId)).health, 'up');
        assert.equal(
          (await t.call('DELETE', `/v1/host-tokens/${token.id}`, { token: t.secrets.operatorToken })).status,
          204,
        );
        await assert.rejects(
          link.heartbeat(host.hostId),
          (error: Error & { code?: string }) => error.code === 'unauthenticated',
        );
        await t.cp.housekeeping();
        assert.equal((await t.cp.services.inventory.getHost(host.hostId)).health, 'down');
        assert.ok((await t.cp.hostTrust.certificates.listForHost(host.hostId)).every((r) => r.revokedAt !== null));
      } finally {
        link.close();
      }

      // Rotation: a join token for the existing host brings it back with a new certificate.
      await assert.rejects(
        join('revoked', (await hostToken('revoked-again')).secret),
        (error: Error & { code?: string }) => error.code === 'conflict',
      );
      const rotated = await join('revoked', (await hostToken('revoked-rotation', host.hostId)).secret);
      assert.deepEqual([rotated.hostId, rotated.created], [host.hostId, false]);
      assert.equal((await call('POST', `/v1/agent/hosts/${host.hostId}/heartbeat`, asHost(rotated))).status, 204);
      assert.equal((await t.cp.services.inventory.getHost(host.hostId)).health, 'up');
      assert.equal((await call('POST', `/v1/agent/hosts/${host.hostId}/heartbeat`, asHost(host))).status, 401);
    });

    test('a rotation join token re-issues the certificate and revokes the older ones', async () => {
      const first = await join('rotating', (await hostToken('rotating')).secret);
      const unknownHost = await t.call('POST', '/v1/host-tokens', {
        token: t.secrets.operatorToken,
        body: { name: 'nobody', host_id: 'host_unknown' },
      });
      assert.equal(unknownHost.status, 404);
      const second = await join('rotating', (await hostToken('rotating-2', first.hostId)).secret);
      assert.deepEqual([second.hostId, second.created], [first.hostId, false]);
      assert.equal((await call('POST', `/v1/agent/hosts/${first.hostId}/heartbeat`, asHost(first))).status, 401);
      assert.equal((await call('POST', `/v1/agent/hosts/${first.hostId}/heartbeat`, asHost(second))).status, 204);
      // A rotation token names its host: it cannot join another name.
      await assert.rejects(
        join('someone-else', (await hostToken('rotating-3', first.hostId)).secret),
        (error: Error & { code?: string }) => error.code === 'forbidden',
      );
    });

    test('a renewed control-plane certificate is served to new connections; agents go on trusting it', async () => {
      const host = await join('cp-renewal', (await hostToken('cp-renewal')).secret);
      const peerFingerprint = async () => {
        const response = await httpsRequest({ method: 'GET', url: `${agentUrl}/v1/agent/ca`, tls: asHost(host) });
        response.resume();
        return (response.socket as TLSSocket).getPeerCertificate().fingerprint256;
      };
      const before = await peerFingerprint();
      assert.equal(before, t.cp.hostTrust.controlPlane.current().fingerprintSha256);
      const renewed = await t.cp.hostTrust.controlPlane.renew();
      const after = await peerFingerprint();
      assert.notEqual(after, before);
      assert.equal(after, renewed.fingerprintSha256);
      assert.equal((await call('POST', `/v1/agent/hosts/${host.hostId}/heartbeat`, asHost(host))).status, 204);
      assert.equal(await t.cp.hostTrust.controlPlane.renewIfDue(), false, 'a fresh certificate is not due');
    });

    test('CLI: host token create prints the CA fingerprint and how to join; host token list and revoke; key-store rotate', async () => {
      const run = async (argv: string[], token = t.secrets.operatorToken) => {
        let stdout = '';
        let stderr = '';
        const code = await runCli(argv, {
          stdout: { write: (chunk: string) => (stdout += chunk) },
          stderr: { write: (chunk: string) => (stderr += chunk) },
          env: { VMCLOUD_CONFIG: joinPath(t.dataDir, 'no-cli.json'), VMCLOUD_URL: t.url, VMCLOUD_TOKEN: token },
          isTTY: false,
        });
        return { code, stdout, stderr };
      };
      const fingerprint = t.cp.hostTrust.caFingerprintSha256;
      let result = await run(['host', 'token', 'create', '--name', 'cli-host', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const created = JSON.parse(result.stdout);
      assert.equal(created.ca_sha256, fingerprint);
      result = await run(['host', 'token', 'create', '--name', 'cli-host-2']);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes(`CA SHA-256:  ${fingerprint}\n`), result.stdout);
      assert.ok(result.stderr.includes(`--ca-sha256 ${fingerprint}`), result.stderr);
      assert.match(result.stderr, /--join-token-file \/etc\/vmcloud\/join-token/);
      assert.doesNotMatch(result.stderr, /vmc_/, 'the hint never repeats the secret');

      const joined = await join('cli-host', created.secret);
      result = await run(['host', 'token', 'list']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`\\n${created.token.id} +cli-host +${joined.hostId} `));
      assert.match(result.stdout, /\ntok_\w+ +cli-host-2 +not joined /);
      result = await run(['host', 'token', 'revoke', created.token.id]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /revoked; the certificates of its host are revoked too/);
      assert.ok((await t.cp.hostTrust.certificates.listForHost(joined.hostId)).every((r) => r.revokedAt !== null));
      result = await run(['host', 'token', 'revoke', created.token.id]);
      assert.equal(result.code, 5, 'revoked already: not found');

      result = await run(['key-store', 'rotate'], t.secrets.projectToken);
      assert.equal(result.code, 4, 'customers cannot rotate the key store');
      result = await run(['key-store', 'rotate']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^key-encryption key is now kek_\w+; \d+ sealed secrets? re-wrapped\n$/);
    });

    test('POST /v1/admin/key-store/rotate (operators) re-wraps the CA key under a new KEK; the CA still loads', async () => {
      const refused = await t.call('POST', '/v1/admin/key-store/rotate');
      assert.equal(refused.status, 403);
      const before = await t.cp.keyStore.kekUsage();
      const rotated = await t.call('POST', '/v1/admin/key-store/rotate', { token: t.secrets.operatorToken });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.match(rotated.body.key_id, /^kek_/);
      assert.ok(!before.some((usage) => usage.kekId === rotated.body.key_id));
      assert.ok(rotated.body.rewrapped >= 1);
      assert.deepEqual(
        (await t.cp.keyStore.kekUsage()).map((usage) => usage.kekId),
        [rotated.body.key_id],
      );
      const reloaded = await loadOrCreateCertificateAuthority({
        db: t.cp.db,
        keyStore: t.cp.keyStore,
        clock: systemClock,
      });
      assert.equal(reloaded.certPem, t.cp.hostTrust.caPem);
      // The reloaded key still signs certificates that chain to the same CA.
      const issued = await issueControlPlaneCertificate(reloaded, { nowMs: Date.now() });
      assert.ok(issued.certPem.includes('BEGIN CERTIFICATE'));
    });
  });
}

/** A registration as the wire carries it (snake_case). */
function bodyOf(value: unknown): unknown {
  const registration = value as Partial<HostRegistration> & Record<string, unknown>;
  if (!('cpuModel' in registration)) return value;
  return {
    name: registration.name,
    region: registration.region,
    driver: registration.driver,
    cpu_model: registration.cpuModel,
    topology: registration.topology,
    agent_version: registration.agentVersion,
    address: registration.address,
  };
}

test('failed joins are limited per client address: 429 with Retry-After past the limit', async () => {
  const t = await startTestControlPlane('sqlite', { fleet: 'none', failedAuthPerMinute: 2 });
  try {
    const agentUrl = await t.cp.agentListener.listen({ host: '127.0.0.1', port: 0 });
    const tls = tlsClientOptions({ caPem: t.cp.hostTrust.caPem, expectControlPlane: true });
    const { csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await httpsRequest({
        method: 'POST',
        url: `${agentUrl}/v1/agent/join`,
        headers: { authorization: `Bearer vmc_${'x'.repeat(36)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...(bodyOf(registrationOf('guess')) as object), csr: csrPem }),
        tls,
      });
      await readText(response);
      statuses.push(response.statusCode ?? 0);
      retryAfter = (response.headers['retry-after'] as string | undefined) ?? null;
    }
    assert.deepEqual(statuses, [401, 401, 429]);
    assert.match(retryAfter ?? '', /^\d+$/);
  } finally {
    await t.dispose();
  }
});
