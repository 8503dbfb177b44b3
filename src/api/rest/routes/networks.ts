import type { Route } from '../route.ts';
import type { NetworkService } from '../../../networks/index.ts';
import type { AddressService } from '../../../addresses/index.ts';
import {
  addNetworkRoute,
  addNetworkSubnet,
  assignFloatingIp,
  assignPrimaryIp,
  attachServerToNetwork,
  changeFloatingIpDnsPtr,
  changePrimaryIpDnsPtr,
  createFloatingIp,
  createNetwork,
  createPrimaryIp,
  deleteFloatingIp,
  deleteNetwork,
  deleteNetworkRoute,
  deletePrimaryIp,
  detachServerFromNetwork,
  getFloatingIp,
  getNetwork,
  getPrimaryIp,
  listFloatingIps,
  listNetworks,
  listPrimaryIps,
  listServerNetworks,
  unassignFloatingIp,
  unassignPrimaryIp,
  updateNetwork,
  updatePrimaryIp,
} from '../../../contract/index.ts';

export function registerNetworkRoutes(route: Route, deps: { networks: NetworkService; addresses: AddressService }) {
  const { networks, addresses } = deps;
  route(createNetwork, ({ principal, body }) => networks.createNetwork(principal, body));
  route(listNetworks, ({ principal, query }) => networks.listNetworks(principal, query));
  route(getNetwork, ({ principal, params }) => networks.getNetwork(principal, params.id));
  route(listServerNetworks, ({ principal, params }) => networks.listServerNetworks(principal, params.id));
  route(updateNetwork, ({ principal, params, body }) => networks.updateNetwork(principal, params.id, body));
  route(deleteNetwork, ({ principal, params }) => networks.deleteNetwork(principal, params.id));
  route(addNetworkSubnet, ({ principal, params, body }) => networks.addSubnet(principal, params.id, body.ip_range));
  route(addNetworkRoute, ({ principal, params, body }) => networks.addRoute(principal, params.id, body));
  route(deleteNetworkRoute, ({ principal, params, body }) => networks.deleteRoute(principal, params.id, body));
  route(attachServerToNetwork, ({ principal, params, body }) => networks.attachServer(principal, params.id, body));
  route(detachServerFromNetwork, ({ principal, params, body }) =>
    networks.detachServer(principal, params.id, body.network),
  );

  route(createFloatingIp, ({ principal, body }) => addresses.createFloatingIp(principal, body));
  route(listFloatingIps, ({ principal, query }) => addresses.listFloatingIps(principal, query));
  route(getFloatingIp, ({ principal, params }) => addresses.getFloatingIp(principal, params.id));
  route(deleteFloatingIp, ({ principal, params }) => addresses.deleteFloatingIp(principal, params.id));
  route(assignFloatingIp, ({ principal, params, body }) =>
    addresses.assignFloatingIp(principal, params.id, body.server),
  );
  route(unassignFloatingIp, ({ principal, params }) => addresses.unassignFloatingIp(principal, params.id));
  route(changeFloatingIpDnsPtr, ({ principal, params, body }) =>
    addresses.changeFloatingIpDnsPtr(principal, params.id, body),
  );

  route(createPrimaryIp, ({ principal, body }) => addresses.createPrimaryIp(principal, body));
  route(listPrimaryIps, ({ principal, query }) => addresses.listPrimaryIps(principal, query));
  route(getPrimaryIp, ({ principal, params }) => addresses.getPrimaryIp(principal, params.id));
  route(updatePrimaryIp, ({ principal, params, body }) => addresses.updatePrimaryIp(principal, params.id, body));
  route(deletePrimaryIp, ({ principal, params }) => addresses.deletePrimaryIp(principal, params.id));
  route(assignPrimaryIp, ({ principal, params, body }) => addresses.assignPrimaryIp(principal, params.id, body.server));
  route(unassignPrimaryIp, ({ principal, params }) => addresses.unassignPrimaryIp(principal, params.id));
  route(changePrimaryIpDnsPtr, ({ principal, params, body }) =>
    addresses.changePrimaryIpDnsPtr(principal, params.id, body),
  );
}
