/**
 * One GraphQL module: a piece of SDL and its resolvers. A new resource (networks, firewalls, invoices) adds
 * one file under modules/ and one line in modules/index.ts; its resolvers call the service its REST routes
 * call (no second business logic).
 */
import type DataLoader from 'dataloader';
import type { Principal } from '../../identity/index.ts';
import type { Action, AnyOperation, BodyOf, QueryOf, Server, ServerNetwork, Volume } from '../../contract/index.ts';
import type { CustomerCapacity } from '../../inventory/index.ts';
import type { GraphqlServices } from './services.ts';
import type { TSchema } from 'typebox';
import { checkInput } from '../input-check.ts';

export interface GraphqlContext {
  principal: Principal;
  services: GraphqlServices;
  loaders: {
    server: DataLoader<string, Server | null>;
    volumesOfServer: DataLoader<string, Volume[]>;
    /** The private networks of each server asked for (one read per request). */
    networksOfServer: DataLoader<string, ServerNetwork[]>;
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

/**
 * A mutation's arguments as the REST body of `operation`: null arguments (GraphQL's "not given") left out, then
 * checked against the operation's body schema — what REST refuses, GraphQL refuses with the same fields.
 */
export function restBody<Op extends AnyOperation>(operation: Op, input: Record<string, unknown>): BodyOf<Op> {
  const body = Object.fromEntries(Object.entries(input).filter(([, v]) => v != null));
  return checkInput(operation.body as TSchema, body) as BodyOf<Op>;
}

/**
 * A query's arguments as the REST query string of `operation` would carry them (numbers as text, nulls left
 * out), checked against its schema: a limit or a selector REST refuses is refused here too.
 */
export function restQuery<Op extends AnyOperation>(operation: Op, args: Record<string, unknown>): QueryOf<Op> {
  const query = Object.fromEntries(
    Object.entries(args)
      .filter(([, v]) => v != null)
      .map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]),
  );
  return checkInput(operation.query as TSchema, query, 'query') as QueryOf<Op>;
}

export interface GraphqlModule {
  typeDefs: string;
  resolvers: Record<string, Record<string, Resolver | SubscriptionResolver>>;
}
