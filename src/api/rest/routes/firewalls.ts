import type { Route } from '../route.ts';
import type { FirewallService } from '../../../firewalls/index.ts';
import {
  applyFirewall,
  createFirewall,
  deleteFirewall,
  getFirewall,
  listFirewalls,
  removeFirewall,
  setFirewallRules,
  updateFirewall,
} from '../../../contract/index.ts';

export function registerFirewallRoutes(route: Route, deps: { firewalls: FirewallService }) {
  const { firewalls } = deps;
  route(createFirewall, ({ principal, body }) => firewalls.createFirewall(principal, body));
  route(listFirewalls, ({ principal, query }) => firewalls.listFirewalls(principal, query));
  route(getFirewall, ({ principal, params }) => firewalls.getFirewall(principal, params.id));
  route(updateFirewall, ({ principal, params, body }) => firewalls.updateFirewall(principal, params.id, body));
  route(deleteFirewall, ({ principal, params }) => firewalls.deleteFirewall(principal, params.id));
  route(setFirewallRules, ({ principal, params, body }) => firewalls.setRules(principal, params.id, body.rules));
  route(applyFirewall, ({ principal, params, body }) =>
    firewalls.applyToResources(principal, params.id, body.apply_to),
  );
  route(removeFirewall, ({ principal, params, body }) =>
    firewalls.removeFromResources(principal, params.id, body.remove_from),
  );
}
