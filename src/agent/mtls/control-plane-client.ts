/**
 * The agent's side of the agent protocol over mutual TLS (src/contract/agent.ts): fetch the CA and check
 * it against the fingerprint the operator gave, join with a join token and a CSR, then every call with the
 * host certificate. The control plane is trusted only if its certificate chains to that CA and names the
 * control plane (SAN URI), whatever address it is reached at.
 */
import { Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { VmcError, type ErrorCode } from '../../core/index.ts';
import type {
  DesiredHostNetwork,
  DesiredInstance,
  DesiredVolume,
  ObservedHostNetwork,
  ObservedInstance,
  ObservedVolume,
  TelemetryAnswer,
  TelemetryBody,
  HostTrafficAnswer,
  HostTrafficBody,
} from '../../contract/index.ts';
import { fingerprintSha256, isCertificateTrustError, tlsClientOptions } from '../../pki/index.ts';
import type { ControlPlaneLink, HostRegistration, Registered } from '../link.ts';
import { httpsRequest, readText } from './https-request.ts';

/** The agent's TLS identity: its host id, key and certificate, and the CA of its control plane. */
export interface HostCredentials {
  hostId: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface Joined extends Registered {
  certPem: string;
  caPem: string;
}

/** `AB:CD:…`, `abcd…` or `sha256:ABCD…`: the same fingerprint. */
export function normalizeFingerprint(text: string): string {
  return text
    .replace(/^sha256[:=]/i, '')
    .replace(/[^0-9a-f]/gi, '')
    .toLowerCase();
}

function registrationBody(input: HostRegistration) {
  return {
    name: input.name,
    region: input.region,
    driver: input.driver,
    cpu_model: input.cpuModel,
    topology: input.topology,
    agent_version: input.agentVersion,
    address: input.address,
    images: input.images,
  };
}

function unreachable(baseUrl: string, error: unknown): VmcError {
  if (isCertificateTrustError(error)) {
    return new VmcError(
      'unavailable',
      `the control plane at ${baseUrl} is not trusted: ${(error as Error).message} (its certificate does not chain to the CA this host pinned, or does not name the control plane)`,
      { reason: 'control_plane_untrusted', cause: error },
    );
  }
  const e = error as { code?: string; name?: string; message?: string };
  return new VmcError(
    'unavailable',
    `the control plane at ${baseUrl} is unreachable: ${e?.code ?? e?.name ?? ''} ${e?.message ?? ''}`.trim(),
    { reason: 'control_plane_unreachable', cause: error },
  );
}

async function answerOf<T>(response: IncomingMessage, what: string): Promise<T> {
  const text = await readText(response);
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
  let problem: { code?: string; detail?: string; reason?: string } = {};
  try {
    problem = JSON.parse(text) as typeof problem;
  } catch {
    // not a problem document
  }
  throw new VmcError((problem.code as ErrorCode) ?? 'internal', problem.detail ?? `HTTP ${status} from ${what}`, {
    reason: problem.reason,
  });
}

async function send<T>(
  baseUrl: string,
  options: {
    method: string;
    path: string;
    body?: unknown;
    headers?: Record<string, string>;
    tls: Parameters<typeof httpsRequest>[0]['tls'];
    agent?: Agent;
    timeoutMs: number;
  },
): Promise<T> {
  let response: IncomingMessage;
  try {
    response = await httpsRequest({
      method: options.method,
      url: `${baseUrl}${options.path}`,
      headers: {
        ...options.headers,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      tls: options.tls,
      agent: options.agent,
      headersTimeoutMs: options.timeoutMs,
    });
  } catch (error) {
    throw unreachable(baseUrl, error);
  }
  try {
    return await answerOf<T>(response, `${options.method} ${options.path}`);
  } catch (error) {
    if (error instanceof VmcError) throw error;
    throw unreachable(baseUrl, error);
  }
}

const trimmed = (url: string) => url.replace(/\/+$/, '');

/**
 * The CA of the control plane, fetched before this host trusts anything (`GET /v1/agent/ca`) and accepted
 * only if its SHA-256 fingerprint is the one the operator gave (`--ca-sha256`): a control plane with another
 * CA, or a machine in the middle, is refused here.
 */
export async function fetchTrustedCa(
  controlPlaneUrl: string,
  expectedSha256: string,
  timeoutMs = 30_000,
): Promise<string> {
  const baseUrl = trimmed(controlPlaneUrl);
  // No CA pinned yet: the answer is trusted by its fingerprint, not by the connection.
  const answer = await send<{ ca_pem: string }>(baseUrl, {
    method: 'GET',
    path: '/v1/agent/ca',
    tls: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', rejectUnauthorized: false },
    timeoutMs,
  });
  let actual: string;
  try {
    actual = fingerprintSha256(answer.ca_pem);
  } catch (error) {
    throw new VmcError('unavailable', `the control plane at ${baseUrl} sent no readable CA certificate`, {
      reason: 'control_plane_untrusted',
      cause: error,
    });
  }
  if (normalizeFingerprint(actual) !== normalizeFingerprint(expectedSha256)) {
    throw new VmcError(
      'unavailable',
      `the control plane at ${baseUrl} has the CA ${actual}, not the ${expectedSha256} given with --ca-sha256: refusing to join it`,
      { reason: 'control_plane_untrusted' },
    );
  }
  return answer.ca_pem;
}

/** Joins with a one-time join token and a CSR, over TLS verified against the pinned CA. */
export async function joinControlPlane(options: {
  controlPlaneUrl: string;
  caPem: string;
  joinToken: string;
  registration: HostRegistration;
  csrPem: string;
  timeoutMs?: number;
}): Promise<Joined> {
  const answer = await send<{
    host_id: string;
    created: boolean;
    ipv4_pool: string;
    certificate_pem: string;
    ca_pem: string;
  }>(trimmed(options.controlPlaneUrl), {
    method: 'POST',
    path: '/v1/agent/join',
    headers: { authorization: `Bearer ${options.joinToken}` },
    body: { ...registrationBody(options.registration), csr: options.csrPem },
    tls: tlsClientOptions({ caPem: options.caPem, expectControlPlane: true }),
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  return {
    hostId: answer.host_id,
    created: answer.created,
    ipv4Pool: answer.ipv4_pool,
    certPem: answer.certificate_pem,
    caPem: answer.ca_pem,
  };
}

export interface MtlsLink extends ControlPlaneLink {
  /** Re-registration at each start: topology, address. */
  register(input: HostRegistration): Promise<Registered>;
  /** A new certificate for a new CSR. */
  renew(csrPem: string): Promise<{ certPem: string; caPem: string }>;
  /** Closes kept-alive connections. */
  close(): void;
  /** Real hosts always have it (the sim fleet's in-process link does not). */
  traffic(hostId: string, body: HostTrafficBody): Promise<HostTrafficAnswer>;
}

/**
 * The agent protocol with the host certificate. `credentials()` is read on every call: after a renewal the
 * link opens new connections with the new certificate.
 */
export function createMtlsLink(options: {
  controlPlaneUrl: string;
  credentials: () => HostCredentials;
  timeoutMs?: number;
}): MtlsLink {
  const baseUrl = trimmed(options.controlPlaneUrl);
  let pooled: { certPem: string; agent: Agent; tls: ReturnType<typeof tlsClientOptions> } | null = null;

  function connection() {
    const credentials = options.credentials();
    if (pooled?.certPem !== credentials.certPem) {
      pooled?.agent.destroy();
      const tls = tlsClientOptions({
        caPem: credentials.caPem,
        certPem: credentials.certPem,
        keyPem: credentials.keyPem,
        expectControlPlane: true,
      });
      // One kept-alive connection: requests reach the control plane in the order the agent makes them, so a
      // report never overtakes an earlier one (a second connection's TLS handshake would let it).
      pooled = { certPem: credentials.certPem, agent: new Agent({ ...tls, keepAlive: true, maxSockets: 1 }), tls };
    }
    return { hostId: credentials.hostId, agent: pooled.agent, tls: pooled.tls };
  }

  function call<T>(method: string, path: (hostId: string) => string, body?: unknown): Promise<T> {
    const { hostId, agent, tls } = connection();
    return send<T>(baseUrl, { method, path: path(hostId), body, tls, agent, timeoutMs: options.timeoutMs ?? 30_000 });
  }

  const own = (hostId: string) => {
    const current = options.credentials().hostId;
    if (hostId !== current) throw new VmcError('invalid', `this agent is host ${current}, not ${hostId}`);
    return `/v1/agent/hosts/${encodeURIComponent(hostId)}`;
  };

  return {
    async register(input) {
      const answer = await call<{ host_id: string; created: boolean; ipv4_pool: string }>(
        'POST',
        (hostId) => `${own(hostId)}/register`,
        registrationBody(input),
      );
      return { hostId: answer.host_id, created: answer.created, ipv4Pool: answer.ipv4_pool };
    },
    async renew(csrPem) {
      const answer = await call<{ certificate_pem: string; ca_pem: string }>(
        'POST',
        (hostId) => `${own(hostId)}/certificate`,
        { csr: csrPem },
      );
      return { certPem: answer.certificate_pem, caPem: answer.ca_pem };
    },
    async desired(hostId) {
      return (await call<{ instances: DesiredInstance[] }>('GET', () => `${own(hostId)}/desired`)).instances;
    },
    async report(hostId, observed: ObservedInstance[], reportOptions) {
      await call('POST', () => `${own(hostId)}/report`, { observed, full: reportOptions.full });
    },
    async heartbeat(hostId, report) {
      await call('POST', () => `${own(hostId)}/heartbeat`, report?.images ? { images: report.images } : {});
    },
    async desiredVolumes(hostId) {
      return (await call<{ volumes?: DesiredVolume[] }>('GET', () => `${own(hostId)}/desired`)).volumes ?? [];
    },
    async reportVolumes(hostId, volumes: ObservedVolume[]) {
      await call('POST', () => `${own(hostId)}/report`, { observed: [], full: false, volumes });
    },
    async desiredNetwork(hostId) {
      const answer = await call<{ network?: DesiredHostNetwork }>('GET', () => `${own(hostId)}/desired`);
      return answer.network ?? { vtep: null, segments: [], publicRoutes: [] };
    },
    async reportNetwork(hostId, network: ObservedHostNetwork) {
      await call('POST', () => `${own(hostId)}/report`, { observed: [], full: false, network });
    },
    async telemetry(hostId, body: TelemetryBody) {
      return call<TelemetryAnswer>('POST', () => `${own(hostId)}/telemetry`, body);
    },
    async traffic(hostId, body: HostTrafficBody) {
      return call<HostTrafficAnswer>('POST', () => `${own(hostId)}/traffic`, body);
    },
    close() {
      pooled?.agent.destroy();
      pooled = null;
    },
  };
}
