import type { Migration, MigrationProvider } from 'kysely';
import type { DialectName } from '../connection.ts';
import { initialMigration } from './001_initial.ts';
import { keystorePkiMigration } from './002_keystore_pki.ts';
import { outboxMigration } from './003_outbox.ts';
import { auditChainMigration } from './004_audit_chain.ts';
import { trustBoundariesMigration } from './005_trust_boundaries.ts';
import { volumesMigration } from './006_volumes.ts';
import { backupsMigration } from './007_backups.ts';
import { replicasMigration } from './008_replicas.ts';
import { serverLifecycleMigration } from './009_server_lifecycle.ts';
import { hostImagesMigration } from './010_host_images.ts';
import { webhooksMigration } from './015_webhooks.ts';
import { networksMigration } from './012_networks.ts';
import { trafficMigration } from './013_traffic.ts';
import { billingMigration } from './014_billing.ts';
import { backupForgetsMigration } from './016_backup_forgets.ts';
import { statusMigration } from './017_status.ts';
import { firewallsMigration } from './018_firewalls.ts';
import { trafficBillingMigration } from './019_traffic_billing.ts';
import { usersSessionsMigration } from './020_users_sessions.ts';
import { hostNetworkReportsMigration } from './022_host_network_reports.ts';
import { productSriovMigration } from './023_product_sriov.ts';
import { hostProbesMigration } from './024_host_probes.ts';
import { volumeKeysMigration } from './025_volume_keys.ts';
import { regionPairProbesMigration } from './026_region_pair_probes.ts';
import { customImagesMigration } from './027_custom_images.ts';
import { projectInvitationsMigration } from './029_project_invitations.ts';
import { operatorSessionsMigration } from './032_operator_sessions.ts';
import { passkeysMigration } from './033_passkeys.ts';
import { backupVolumesMigration } from './034_backup_volumes.ts';
import { addressIndexesMigration } from './030_address_indexes.ts';
import { volumeSourcesMigration } from './031_volume_sources.ts';
import { sshKeysMigration } from './035_ssh_keys.ts';
import { eventResourceIndexMigration } from './036_event_resource_index.ts';

/** Every migration, in order. Add a new file and one line here; never edit a released migration. */
export function migrationProvider(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001_initial': initialMigration(dialect),
        '002_keystore_pki': keystorePkiMigration(),
        '003_outbox': outboxMigration(dialect),
        '004_audit_chain': auditChainMigration(dialect),
        '005_trust_boundaries': trustBoundariesMigration(),
        '006_volumes': volumesMigration(),
        '007_backups': backupsMigration(),
        '008_replicas': replicasMigration(dialect),
        '009_server_lifecycle': serverLifecycleMigration(),
        '010_host_images': hostImagesMigration(),
        '015_webhooks': webhooksMigration(dialect),
        '012_networks': networksMigration(),
        '013_traffic': trafficMigration(dialect),
        '014_billing': billingMigration(),
        '016_backup_forgets': backupForgetsMigration(),
        '017_status': statusMigration(),
        '018_firewalls': firewallsMigration(),
        '019_traffic_billing': trafficBillingMigration(),
        '020_users_sessions': usersSessionsMigration(),
        '022_host_network_reports': hostNetworkReportsMigration(),
        '023_product_sriov': productSriovMigration(),
        '024_host_probes': hostProbesMigration(dialect),
        '025_volume_keys': volumeKeysMigration(),
        '026_region_pair_probes': regionPairProbesMigration(),
        '027_custom_images': customImagesMigration(),
        '029_project_invitations': projectInvitationsMigration(),
        '030_address_indexes': addressIndexesMigration(),
        '031_volume_sources': volumeSourcesMigration(),
        '032_operator_sessions': operatorSessionsMigration(),
        '033_passkeys': passkeysMigration(),
        '034_backup_volumes': backupVolumesMigration(),
        '035_ssh_keys': sshKeysMigration(),
        '036_event_resource_index': eventResourceIndexMigration(),
      };
    },
  };
}
