/** The services GraphQL calls: the same ones the REST routes call. */
import type { CatalogService } from '../../catalog/index.ts';
import type { ComputeService } from '../../compute/index.ts';
import type { IdentityService } from '../../identity/index.ts';
import type { VolumeService } from '../../volumes/index.ts';
import type { BackupService } from '../../backups/index.ts';
import type { WebhookService } from '../../webhooks/index.ts';
import type { NetworkService } from '../../networks/index.ts';
import type { AddressService } from '../../addresses/index.ts';
import type { BillingService } from '../../billing/index.ts';
import type { FirewallService } from '../../firewalls/index.ts';
import type { SshKeyService } from '../../sshkeys/index.ts';
import type { PlacementScheduler } from '../../scheduler/index.ts';
import type { EventStream } from '../rest/routes/events.ts';

export interface GraphqlServices {
  catalog: CatalogService;
  compute: ComputeService;
  identity: IdentityService;
  volumes: VolumeService;
  backups: BackupService;
  webhooks: WebhookService;
  networks: NetworkService;
  addresses: AddressService;
  billing: BillingService;
  firewalls: FirewallService;
  sshKeys: SshKeyService;
  /** Capacity, for the availability customers see (`Product.availability`). */
  scheduler: Pick<PlacementScheduler, 'capacity'>;
  events: EventStream;
}
