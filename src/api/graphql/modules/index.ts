/** Every GraphQL module. A new resource: one file here and one line below. */
import type { GraphqlModule } from '../module.ts';
import { baseModule } from './base.ts';
import { catalogModule } from './catalog.ts';
import { serversModule } from './servers.ts';
import { volumesModule } from './volumes.ts';
import { backupsModule } from './backups.ts';
import { eventsModule } from './events.ts';
import { projectModule } from './project.ts';
import { networksModule } from './networks.ts';
import { billingModule } from './billing.ts';
import { firewallsModule } from './firewalls.ts';
import { sshKeysModule } from './ssh-keys.ts';

export const graphqlModules: GraphqlModule[] = [
  baseModule,
  catalogModule,
  serversModule,
  volumesModule,
  backupsModule,
  eventsModule,
  projectModule,
  networksModule,
  billingModule,
  firewallsModule,
  sshKeysModule,
];
