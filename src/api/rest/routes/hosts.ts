import type { Route } from '../route.ts';
import type { InventoryService } from '../../../inventory/index.ts';
import type { HostRecovery } from '../../../compute/index.ts';
import type { IdentityService } from '../../../identity/index.ts';
import type { DrainReport, HostNetworkView, HostState } from '../../../contract/index.ts';
import {
  createHostToken,
  evacuateHost,
  forgetHost,
  getHost,
  getHostNetwork,
  listHostTokens,
  listHosts,
  revokeHostToken,
  setHostState,
} from '../../../contract/index.ts';

export interface HostRouteDeps {
  inventory: InventoryService;
  identity: IdentityService;
  hostRecovery: HostRecovery;
  /** Draining moves the host's servers elsewhere; returns what moved and what could not. */
  drain: (hostId: string) => Promise<DrainReport>;
  /** The host's network data plane, desired vs reported (src/networks/host-network-view.ts). */
  hostNetwork?: (hostId: string) => Promise<HostNetworkView>;
  /** Host trust (mutual TLS): the CA fingerprint agents pin, and revocation of a host's certificates. */
  hostTrust: {
    caFingerprintSha256: string;
    /** Revokes every certificate of the host, in the token revocation's transaction. */
    revokeHostCertificates: (tx: unknown, hostId: string) => Promise<void>;
  };
}

export function registerHostRoutes(route: Route, deps: HostRouteDeps) {
  const { inventory, identity } = deps;

  route(listHosts, async ({ query }) => ({ hosts: await inventory.listHosts({ region: query.region }) }));
  route(getHost, async ({ params }) => ({ host: await inventory.getHost(params.id) }));
  const hostNetwork = deps.hostNetwork;
  if (hostNetwork)
    route(getHostNetwork, async ({ params }) => {
      await inventory.getHost(params.id); // 404 for an unknown host
      return { network: await hostNetwork(params.id) };
    });

  route(setHostState, async ({ params, body }) => {
    const host = await inventory.setHostState(params.id, body.state as HostState);
    if (host.state !== 'draining') return { host };
    const drain = await deps.drain(host.id);
    return { host: await inventory.getHost(host.id), drain };
  });

  route(evacuateHost, async ({ params }) => ({ evacuation: await deps.hostRecovery.evacuate(params.id) }));
  route(forgetHost, ({ params, body }) => deps.hostRecovery.forget(params.id, body.confirm));

  route(createHostToken, async ({ body }) => {
    // Rotation: a join token for an existing host (404 for an unknown one).
    if (body.host_id !== undefined) await inventory.getHost(body.host_id);
    const created = await identity.createHostToken({
      name: body.name,
      expiresInDays: body.expires_in_days,
      hostId: body.host_id ?? null,
    });
    return { ...created, ca_sha256: deps.hostTrust.caFingerprintSha256 };
  });
  route(listHostTokens, async () => ({ tokens: await identity.listHostTokens() }));
  route(revokeHostToken, async ({ params }) => {
    // The host's certificates are revoked with the token: its agent is refused from now on.
    const { hostId } = await identity.revokeHostToken(params.id, deps.hostTrust.revokeHostCertificates);
    if (hostId) await inventory.expireHeartbeat(hostId);
  });
}
