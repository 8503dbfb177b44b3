/**
 * Fixtures of the trust-boundary tests (authorization matrix, hostile agent): a token that is well formed
 * but unknown, host registrations shaped like the seed's hardware, a join over the agent listener (mutual
 * TLS), and a real host for a test control plane — its host API (with a permissive fake of the QEMU host
 * features and a real image store, serving its host certificate) and its agent loop (the sim driver)
 * talking to the agent listener with its host certificate.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { generateTokenSecret, isWellFormedToken } from '../src/identity/token-format.ts';
import { hostShapes, topologyOfShape } from '../src/inventory/index.ts';
import type { RegisterHostBody } from '../src/contract/index.ts';
import { createAgent, type Agent } from '../src/agent/index.ts';
import { createHostApi, type HostApi, type HostFeatureDriver } from '../src/agent/host-api/index.ts';
import {
  createMtlsLink,
  httpsRequest,
  joinControlPlane,
  readText,
  type HostCredentials,
} from '../src/agent/mtls/index.ts';
import { createKeyAndCsr, tlsClientOptions } from '../src/pki/index.ts';
import { createSimDriver } from '../src/compute/index.ts';
import { createImageStore } from '../src/images/index.ts';
import { silentLogger } from '../src/core/log.ts';
import { fastSimDelays } from './helpers.ts';

/** A `vmc_…` token with a valid checksum that no control plane ever issued. */
export function unknownWellFormedToken(): string {
  const token = generateTokenSecret();
  if (!isWellFormedToken(token)) throw new Error('generateTokenSecret made a token that is not well formed');
  return token;
}

/** A valid registration of a `std-7543` host (2 × 32 cores, 2 NUMA nodes, 2 SR-IOV NICs). */
export function hostRegistration(input: {
  name: string;
  region: string;
  address: string | null;
  driver?: 'qemu' | 'sim';
}): RegisterHostBody {
  const shape = hostShapes['std-7543'];
  return {
    name: input.name,
    region: input.region,
    driver: input.driver ?? 'sim',
    cpu_model: shape.cpuModel,
    topology: topologyOfShape(shape),
    agent_version: 'test',
    address: input.address,
  };
}

/** Where a test control plane's agent listener is and the CA its agents pin. */
export interface AgentListenerOfTest {
  agentUrl: string;
  caPem: string;
}

/** The agent listener of a test control plane, listening on loopback (started on first use). */
export async function agentListenerOf(cp: {
  agentListener: { url: string | null; listen(address: { host: string; port: number }): Promise<string> };
  hostTrust: { caPem: string };
}): Promise<AgentListenerOfTest> {
  const agentUrl = cp.agentListener.url ?? (await cp.agentListener.listen({ host: '127.0.0.1', port: 0 }));
  return { agentUrl, caPem: cp.hostTrust.caPem };
}

/** Joins with a join token (`POST /v1/agent/join`, a fresh key and CSR); the host's credentials. */
export async function joinTestHost(
  listener: AgentListenerOfTest,
  token: string,
  registration: RegisterHostBody,
): Promise<HostCredentials> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
  const joined = await joinControlPlane({
    controlPlaneUrl: listener.agentUrl,
    caPem: listener.caPem,
    joinToken: token,
    registration: {
      name: registration.name,
      region: registration.region,
      driver: registration.driver,
      cpuModel: registration.cpu_model,
      topology: registration.topology,
      agentVersion: registration.agent_version,
      address: registration.address,
    },
    csrPem,
  });
  return { hostId: joined.hostId, caPem: joined.caPem, certPem: joined.certPem, keyPem };
}

/**
 * One request to the agent listener as a host would make it: with `credentials` (its certificate) or none,
 * a raw body (sent as it is), an optional join token. The status and the text of the answer.
 */
export async function agentRequest(
  listener: AgentListenerOfTest,
  request: {
    method: string;
    path: string;
    credentials: HostCredentials | null;
    body?: string;
    joinToken?: string;
  },
): Promise<{ status: number; text: string }> {
  const response = await httpsRequest({
    method: request.method,
    url: listener.agentUrl + request.path,
    headers: {
      ...(request.joinToken ? { authorization: `Bearer ${request.joinToken}` } : {}),
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: request.body,
    tls: tlsClientOptions({
      caPem: listener.caPem,
      ...(request.credentials ? { certPem: request.credentials.certPem, keyPem: request.credentials.keyPem } : {}),
      expectControlPlane: true,
    }),
  });
  return { status: response.statusCode ?? 0, text: await readText(response) };
}

/**
 * The QEMU host features, faked and permissive: every server has a console, a boot log and a `base`
 * snapshot; snapshots can be made, restored and deleted under any name; exports are a small file. The
 * trust-boundary tests are about who may reach these, not what they do.
 */
export function permissiveHostFeatures(): HostFeatureDriver {
  const snapshot = (name: string) => ({ name, id: '1', createdAt: '2026-01-01T00:00:00.000Z', vmStateBytes: 0 });
  return {
    async attachConsole(serverId) {
      const duplex = new Duplex({ read() {}, write: (_chunk, _encoding, callback) => callback() });
      duplex.push(`console of ${serverId}\r\n`);
      return duplex;
    },
    consoleLog: async (serverId) => `boot log of ${serverId}\n`,
    createSnapshot: async (_serverId, name) => snapshot(name),
    listSnapshots: async () => [snapshot('base')],
    restoreSnapshot: async () => {},
    deleteSnapshot: async () => {},
    async exportDisk(_serverId, path, options = {}) {
      await writeFile(path, Buffer.alloc(4096, 1));
      return {
        path,
        format: options.format ?? 'qcow2',
        sizeBytes: 4096,
        virtualSizeBytes: 1024 ** 3,
        fromRunningServer: true,
      };
    },
    pinning: async () => null,
  };
}

export interface TestHost {
  hostId: string;
  /** The exact body it registered with (registering it again changes nothing). */
  registration: RegisterHostBody;
  /** Its key and certificate, for requests to the agent listener as this host. */
  credentials: HostCredentials;
  stop(): Promise<void>;
}

/**
 * A host of a test control plane, as a real machine would be: joined with `token` over the agent listener,
 * a host API on loopback serving its host certificate, re-registered with that address as driver `qemu`
 * (so that the control plane sends it image uploads), and an agent loop that converges its servers with
 * the sim driver and reports with its certificate. Needs `hostAddressPolicy: 'allow-loopback'`.
 */
export async function startTestHost(input: {
  listener: AgentListenerOfTest;
  token: string;
  name: string;
  region: string;
  dataDir: string;
}): Promise<TestHost> {
  const credentials = await joinTestHost(
    input.listener,
    input.token,
    hostRegistration({ name: input.name, region: input.region, address: null, driver: 'qemu' }),
  );
  const hostDir = join(input.dataDir, `host-${input.name}`);
  const hostApi: HostApi = createHostApi({
    driver: permissiveHostFeatures(),
    imageStore: createImageStore({ dir: join(hostDir, 'images') }),
    tls: credentials,
    scratchDir: input.dataDir,
  });
  const address = await hostApi.listen({ host: '127.0.0.1', port: 0 });
  const registration = hostRegistration({ name: input.name, region: input.region, address, driver: 'qemu' });
  const link = createMtlsLink({ controlPlaneUrl: input.listener.agentUrl, credentials: () => credentials });
  try {
    await link.register({
      name: registration.name,
      region: registration.region,
      driver: registration.driver,
      cpuModel: registration.cpu_model,
      topology: registration.topology,
      agentVersion: registration.agent_version,
      address,
    });
  } catch (error) {
    link.close();
    await hostApi.close();
    throw new Error(`host ${input.name} could not register: ${(error as Error).message}`, { cause: error });
  }
  const driver = createSimDriver({ delays: fastSimDelays });
  const agent: Agent = createAgent({
    hostId: credentials.hostId,
    link,
    driver,
    log: silentLogger,
    resyncIntervalMs: 50,
    heartbeatIntervalMs: 1000,
    gracefulStopTimeoutMs: 1000,
  });
  agent.start();
  return {
    hostId: credentials.hostId,
    registration,
    credentials,
    async stop() {
      await agent.stop();
      link.close();
      await driver.close();
      await hostApi.close();
    },
  };
}
