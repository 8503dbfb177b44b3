/**
 * The synthetic probes the control plane runs on itself (one replica at a time, src/app.ts): the API over
 * real HTTP, a billing read, the host census, and a canary server per region on the fleet (the smallest
 * product, created in an internal project, waited for until running, deleted). What they reach in the
 * other domains arrives as functions.
 */
import type { Principal } from '../identity/index.ts';
import type { CreateServerBody, Server } from '../contract/index.ts';
import type { HostCensusEntry, ProbeOutcome } from './derive.ts';
import type { StatusProbes } from './service.ts';

export interface ProbeDeps {
  nowMs(): number;
  /** The control plane's own base URL (http://127.0.0.1:port), or null when it does not listen. */
  apiUrl(): string | null;
  /** Over HTTPS: the control plane's own certificate, trusted for this probe (the name is not checked). */
  tlsCaPem: string | null;
  /** How long the API probe waits for an answer. */
  apiTimeoutMs: number;
  billingRead(): Promise<unknown>;
  hosts(): Promise<Array<HostCensusEntry & { region: string }>>;
  canary: {
    /** The internal project's id (made on first use). */
    projectId(): Promise<string>;
    /** The smallest product sold in the region, and an image to boot. */
    smallestProduct(region: string): Promise<{ product: string; image: string } | null>;
    createServer(principal: Principal, body: CreateServerBody): Promise<{ server: Server }>;
    getServer(principal: Principal, serverId: string): Promise<{ server: Server }>;
    deleteServer(principal: Principal, serverId: string): Promise<unknown>;
    /** Gives up waiting for running after this long. */
    timeoutMs: number;
    sleep(ms: number): Promise<void>;
  };
}

export function createStatusProbes(deps: ProbeDeps): StatusProbes {
  let tlsFetch: Promise<typeof fetch> | null = null;
  /** The canary project, asked once for the parallel canaries of a pass (forgotten if that failed). */
  let canaryProject: Promise<string> | null = null;
  const canaryProjectId = () =>
    (canaryProject ??= deps.canary.projectId().catch((error: unknown) => {
      canaryProject = null;
      throw error;
    }));
  /** Plain fetch, or (HTTPS) undici trusting the control plane's certificate, loaded on first use. */
  const fetchOf = (): Promise<typeof fetch> => {
    const ca = deps.tlsCaPem;
    if (!ca) return Promise.resolve(fetch);
    return (tlsFetch ??= import('undici').then(({ Agent, fetch: undiciFetch }) => {
      const dispatcher = new Agent({ connect: { ca, checkServerIdentity: () => undefined } });
      return ((input: never, init?: object) =>
        undiciFetch(input, { ...init, dispatcher } as never)) as unknown as typeof fetch;
    }));
  };
  return {
    async api() {
      const base = deps.apiUrl();
      if (!base) return null;
      const started = performance.now();
      try {
        const get = await fetchOf();
        const response = await get(`${base}/healthz`, { signal: AbortSignal.timeout(deps.apiTimeoutMs) });
        await response.arrayBuffer();
        const latencyMs = Math.round(performance.now() - started);
        return response.ok ? { ok: true, latencyMs } : { ok: false, latencyMs, error: `HTTP ${response.status}` };
      } catch (error) {
        return { ok: false, latencyMs: null, error: error instanceof Error ? error.message : String(error) };
      }
    },

    async billing() {
      const started = performance.now();
      await deps.billingRead();
      return { ok: true, latencyMs: Math.round(performance.now() - started) };
    },

    hosts: () => deps.hosts(),

    async canary(region): Promise<ProbeOutcome> {
      const choice = await deps.canary.smallestProduct(region);
      if (!choice) return { ok: false, latencyMs: null, error: 'no product sold in this region' };
      const projectId = await canaryProjectId();
      const principal: Principal = {
        kind: 'project',
        tokenId: 'status-canary',
        userId: null,
        projectId,
        role: 'owner',
      };
      const startedMs = deps.nowMs();
      const { server } = await deps.canary.createServer(principal, {
        name: `canary-${region}-${startedMs.toString(36)}`,
        product: choice.product,
        region,
        image: choice.image,
        labels: { 'vmcloud.dev/canary': 'true' },
      });
      try {
        for (;;) {
          const { server: now } = await deps.canary.getServer(principal, server.id);
          if (now.status === 'running') return { ok: true, latencyMs: deps.nowMs() - startedMs };
          if (now.status === 'error')
            return { ok: false, latencyMs: null, error: `canary ${server.id} in error: ${now.error ?? ''}` };
          if (deps.nowMs() - startedMs > deps.canary.timeoutMs)
            return {
              ok: false,
              latencyMs: null,
              error: `canary ${server.id} not running after ${deps.canary.timeoutMs} ms`,
            };
          await deps.canary.sleep(50);
        }
      } finally {
        await deps.canary.deleteServer(principal, server.id).catch(() => undefined);
      }
    },
  };
}
