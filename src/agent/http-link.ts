import { VmcError, type ErrorCode } from '../core/index.ts';
import type { ObservedInstance, DesiredInstance } from '../compute/index.ts';
import type { ControlPlaneLink, HostRegistration, Registered } from './link.ts';

/** The agent protocol over HTTP with a host token (`/v1/agent/…`). */
export function createHttpLink(options: { baseUrl: string; token: string; timeoutMs?: number }): ControlPlaneLink & { register(input: HostRegistration): Promise<Registered> } {
  const base = options.baseUrl.replace(/\/$/, '');
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new VmcError('unavailable', `control plane at ${base} is unreachable: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (!response.ok) {
      let problem: { code?: string; detail?: string } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {
        // not a problem document
      }
      throw new VmcError((problem.code as ErrorCode) ?? 'internal', problem.detail ?? `HTTP ${response.status} from ${method} ${path}`);
    }
    return JSON.parse(text) as T;
  }
  return {
    async register(input) {
      const result = await call<{ host_id: string; created: boolean; ipv4_pool: string }>('POST', '/v1/agent/register', {
        name: input.name,
        region: input.region,
        driver: input.driver,
        cpu_model: input.cpuModel,
        topology: input.topology,
        agent_version: input.agentVersion,
        address: input.address,
        ...(input.agentKey ? { agent_key: input.agentKey } : {}),
      });
      return { hostId: result.host_id, created: result.created, ipv4Pool: result.ipv4_pool };
    },
    async desired(hostId) {
      return (await call<{ instances: DesiredInstance[] }>('GET', `/v1/agent/hosts/${hostId}/desired`)).instances;
    },
    async report(hostId, observed: ObservedInstance[], reportOptions) {
      await call('POST', `/v1/agent/hosts/${hostId}/report`, { observed, full: reportOptions.full });
    },
    async heartbeat(hostId) {
      await call('POST', `/v1/agent/hosts/${hostId}/heartbeat`);
    },
  };
}
