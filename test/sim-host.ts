/**
 * A simulated host that joins a control plane the way a real one does: joined over the agent listener
 * (mutual TLS) with a join token, converged by the real agent loop through a sim driver the test configures
 * (images it has no file of, images whose boot fails). For suites that need a host the seed's fleet cannot
 * be, e.g. one on which a server's start fails.
 */
import { createAgent } from '../src/agent/index.ts';
import { createMtlsLink, fetchTrustedCa, joinControlPlane } from '../src/agent/mtls/index.ts';
import { createKeyAndCsr } from '../src/pki/index.ts';
import { createSimDriver, type SimDelays } from '../src/compute/index.ts';
import { silentLogger } from '../src/core/index.ts';
import { hostShapes, topologyOfShape, type HostShapeName } from '../src/inventory/index.ts';

export interface SimHostOptions {
  /** The control plane's agent listener (`cp.agentListener.listen(…)`), https://… */
  agentUrl: string;
  /** The CA fingerprint `vmcloud host token create` printed with the token (`ca_sha256`). */
  caSha256: string;
  /** A join token (`vmcloud host token create`). */
  hostToken: string;
  name: string;
  region: string;
  shape?: HostShapeName;
  /** The driver the host registers with (default `sim`); `qemu` for tests that play a real host's data plane. */
  registerAs?: 'sim' | 'qemu';
  /** Images the host has no file of: starting a server of one fails (`image_not_on_host`). */
  missingImages?: string[];
  /** Images whose boot crashes the instance. */
  failingImages?: string[];
  delays?: Partial<SimDelays>;
  /** Failed driver operations after which the agent reports the server failed (default 2). */
  maxAttempts?: number;
}

export interface SimHost {
  hostId: string;
  /** The host's mutual-TLS link to the control plane (what its other loops would call). */
  link: ReturnType<typeof createMtlsLink>;
  /** Instances the host's driver holds. */
  instanceCount(): number;
  /** Silences the agent (no heartbeats, no reports) while its instances keep running: a host cut off. */
  pause(): Promise<void>;
  /** The agent heartbeats and reports again. */
  resume(): void;
  stop(): Promise<void>;
}

export async function startSimHost(options: SimHostOptions): Promise<SimHost> {
  const shape = hostShapes[options.shape ?? 'std-7543'];
  const caPem = await fetchTrustedCa(options.agentUrl, options.caSha256);
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: 'vmcloud-agent' });
  const joined = await joinControlPlane({
    controlPlaneUrl: options.agentUrl,
    caPem,
    joinToken: options.hostToken,
    registration: {
      name: options.name,
      region: options.region,
      driver: options.registerAs ?? 'sim',
      cpuModel: shape.cpuModel,
      topology: topologyOfShape(shape),
      agentVersion: 'test',
      address: null,
    },
    csrPem,
  });
  const hostId = joined.hostId;
  const credentials = { hostId, caPem, certPem: joined.certPem, keyPem };
  const link = createMtlsLink({ controlPlaneUrl: options.agentUrl, credentials: () => credentials });
  const driver = createSimDriver({
    delays: { startMs: 5, stopMs: 5, forcedStopMs: 1, rebootMs: 5, destroyMs: 1, ...options.delays },
    missingImages: options.missingImages,
    failingImages: options.failingImages,
  });
  const agent = createAgent({
    hostId,
    link,
    driver,
    log: silentLogger,
    // An agent over HTTP is not poked: it reads its desired state at every resync.
    resyncIntervalMs: 20,
    heartbeatIntervalMs: 1000,
    gracefulStopTimeoutMs: 1000,
    retryPolicy: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: options.maxAttempts ?? 2 },
  });
  agent.start();
  return {
    hostId,
    link,
    instanceCount: () => driver.instanceCount(),
    pause: () => agent.stop(),
    resume: () => agent.start(),
    async stop() {
      await agent.stop();
      link.close();
      await driver.close();
    },
  };
}
