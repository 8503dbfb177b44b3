/**
 * The wire truth of VMCloud: one file per resource with its TypeBox schemas, `Static` types and
 * operations. The REST edge, the typed client, the CLI, the agent link and the tests all import from here.
 */
export * from './operation.ts';
export * from './common.ts';
export * from './actions.ts';
export * from './servers.ts';
export * from './volumes.ts';
export * from './regions.ts';
export * from './products.ts';
export * from './images.ts';
export * from './custom-images.ts';
export * from './topology.ts';
export * from './hosts.ts';
export * from './placement.ts';
export * from './capacity.ts';
export * from './projects.ts';
export * from './tokens.ts';
export * from './audit-log.ts';
export * from './event-stream.ts';
export * from './agent.ts';
export * from './server-host.ts';
export * from './admin.ts';
export * from './backups.ts';
export * from './webhooks.ts';
export * from './networks.ts';
export * from './firewalls.ts';
export * from './ssh-keys.ts';
export * from './primary-ips.ts';
export * from './floating-ips.ts';
export * from './host-network.ts';
export * from './traffic.ts';
export * from './flow-logs.ts';
export * from './ddos.ts';
export * from './metrics.ts';
export * from './server-metrics.ts';
export * from './billing.ts';
export * from './status.ts';
export * from './telemetry.ts';
export * from './host-traffic.ts';
export * from './auth.ts';
export * from './operator-sessions.ts';
export * from './invitations.ts';
export * from './passkeys.ts';

import { actionOperations } from './actions.ts';
import { serverOperations } from './servers.ts';
import { volumeOperations } from './volumes.ts';
import { regionOperations } from './regions.ts';
import { productOperations } from './products.ts';
import { imageOperations } from './images.ts';
import { customImageOperations } from './custom-images.ts';
import { hostOperations } from './hosts.ts';
import { placementOperations } from './placement.ts';
import { capacityOperations } from './capacity.ts';
import { projectOperations } from './projects.ts';
import { tokenOperations } from './tokens.ts';
import { auditLogOperations } from './audit-log.ts';
import { eventStreamOperations } from './event-stream.ts';
import { serverHostOperations } from './server-host.ts';
import { adminOperations } from './admin.ts';
import { backupOperations } from './backups.ts';
import { webhookOperations } from './webhooks.ts';
import { networkOperations } from './networks.ts';
import { firewallOperations } from './firewalls.ts';
import { sshKeyOperations } from './ssh-keys.ts';
import { floatingIpOperations } from './floating-ips.ts';
import { primaryIpOperations } from './primary-ips.ts';
import { trafficOperations } from './traffic.ts';
import { flowLogOperations } from './flow-logs.ts';
import { ddosOperations } from './ddos.ts';
import { metricsOperations } from './metrics.ts';
import { serverMetricsOperations } from './server-metrics.ts';
import { billingOperations } from './billing.ts';
import { statusOperations } from './status.ts';
import { hostNetworkOperations } from './host-network.ts';
import { authOperations } from './auth.ts';
import { invitationOperations } from './invitations.ts';
import { passkeyOperations } from './passkeys.ts';
import { operatorSessionOperations } from './operator-sessions.ts';

/**
 * Every operation of the REST API v1, by operationId-ish key. The agent protocol's operations
 * (`agentOperations`) are served by the agent listener over mutual TLS, not by this API.
 */
export const operations = {
  ...actionOperations,
  ...serverOperations,
  ...volumeOperations,
  ...regionOperations,
  ...productOperations,
  ...imageOperations,
  ...customImageOperations,
  ...hostOperations,
  ...placementOperations,
  ...capacityOperations,
  ...projectOperations,
  ...tokenOperations,
  ...auditLogOperations,
  ...eventStreamOperations,
  ...serverHostOperations,
  ...adminOperations,
  ...backupOperations,
  ...webhookOperations,
  ...networkOperations,
  ...firewallOperations,
  ...sshKeyOperations,
  ...floatingIpOperations,
  ...primaryIpOperations,
  ...trafficOperations,
  ...flowLogOperations,
  ...ddosOperations,
  ...metricsOperations,
  ...serverMetricsOperations,
  ...billingOperations,
  ...statusOperations,
  ...hostNetworkOperations,
  ...authOperations,
  ...invitationOperations,
  ...passkeyOperations,
  ...operatorSessionOperations,
};
export * from './events.ts';
