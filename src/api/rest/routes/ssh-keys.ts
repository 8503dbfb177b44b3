import type { Route } from '../route.ts';
import type { SshKeyService } from '../../../sshkeys/index.ts';
import { createSshKey, deleteSshKey, getSshKey, listSshKeys, updateSshKey } from '../../../contract/index.ts';

export function registerSshKeyRoutes(route: Route, deps: { sshKeys: SshKeyService }) {
  const { sshKeys } = deps;
  route(createSshKey, ({ principal, body }) => sshKeys.createSshKey(principal, body));
  route(listSshKeys, ({ principal, query }) => sshKeys.listSshKeys(principal, query));
  route(getSshKey, ({ principal, params }) => sshKeys.getSshKey(principal, params.id));
  route(updateSshKey, ({ principal, params, body }) => sshKeys.updateSshKey(principal, params.id, body));
  route(deleteSshKey, ({ principal, params }) => sshKeys.deleteSshKey(principal, params.id));
}
