/**
 * One GraphQL module: a piece of SDL and its resolvers. A new resource (networks, firewalls, invoices) adds
 * one file under modules/ and one line in modules/index.ts; its resolvers call the service its REST routes
 * call (no second business logic).
 */
import type DataLoader from 'dataloader';
import type { Principal } from '../../identity/index.ts';
import type { Action, Server, Volume } from '../../contract/index.ts';
import type { CustomerCapacity } from '../../inventory/index.ts';
import type { GraphqlServices } from './services.ts';

export interface GraphqlContext {
  principal: Principal;
  services: GraphqlServices;
  loaders: {
    server: DataLoader<string, Server | null>;
    volumesOfServer: DataLoader<string, Volume[]>;
    /** The newest actions of each server asked for (one statement per request). */
    actionsOfServer: DataLoader<string, Action[]>;
    /** The customer view of capacity, computed once per request whatever the number of products asking. */
    capacity: DataLoader<'all', CustomerCapacity[]>;
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- parents and arguments are shaped by the SDL, not by TypeScript */
type Resolver = (parent: any, args: any, context: GraphqlContext) => unknown;
type SubscriptionResolver = {
  subscribe: (
    parent: any,
    args: any,
    context: GraphqlContext,
  ) => Promise<AsyncIterable<unknown>> | AsyncIterable<unknown>;
  resolve?: Resolver;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface GraphqlModule {
  typeDefs: string;
  resolvers: Record<string, Record<string, Resolver | SubscriptionResolver>>;
}
