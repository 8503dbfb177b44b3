import type { GraphqlContext, GraphqlModule } from '../module.ts';
import type { StreamEvent } from '../../../contract/index.ts';
import { requireProject } from '../../../identity/index.ts';

/**
 * An async iterator over the live stream that ends at once when the client unsubscribes (`return()`),
 * even while it waits for the next event.
 */
function live<T>(
  context: GraphqlContext,
  filter: { types?: string[]; resourceId?: string },
  map: (event: StreamEvent) => T | null,
): AsyncIterableIterator<T> {
  const controller = new AbortController();
  const projectId =
    context.principal.kind === 'operator' ? null : requireProject(context.principal, 'viewer').projectId;
  const source = context.services.events.follow({
    after: null,
    projectId,
    types: filter.types,
    signal: controller.signal,
  });
  const iterator = source[Symbol.asyncIterator]();
  const it: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        const step = await iterator.next();
        if (step.done) return { done: true, value: undefined };
        if (filter.resourceId && step.value.event.resource.id !== filter.resourceId) continue;
        const value = map(step.value.event);
        if (value !== null) return { done: false, value };
      }
    },
    async return() {
      controller.abort();
      await iterator.return?.(undefined);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

export const eventsModule: GraphqlModule = {
  typeDefs: /* GraphQL */ `
    type Resource {
      type: String!
      id: ID!
    }
    type Event {
      seq: Float!
      id: ID!
      at: String!
      type: String!
      project_id: String
      resource: Resource!
      data: JSON!
    }
    type EventPage {
      events: [Event!]!
      last: Float!
    }
    type ServerStatusChange {
      server_id: ID!
      event: String!
      from: String
      status: String!
      at: String!
    }
    extend type Query {
      "The event stream in order (poll with after = last)."
      events(after: Float, limit: Int, types: [String!]): EventPage!
    }
    extend type Subscription {
      "The project's events as they happen (operators: every event)."
      projectEvents(types: [String!]): Event!
      "A server's status changes as its host reports them."
      serverStatus(id: ID!): ServerStatusChange!
    }
  `,
  resolvers: {
    Query: {
      events: (_p, args, { principal, services }) => {
        const projectId = principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;
        return services.events.list({
          projectId,
          after: args.after ?? 0,
          limit: args.limit ?? 100,
          types: args.types ?? undefined,
        });
      },
    },
    Subscription: {
      projectEvents: {
        subscribe: (_p, args, context) =>
          live(context, { types: args.types ?? undefined }, (event) => ({ projectEvents: event })),
      },
      serverStatus: {
        subscribe: async (_p, { id }, context) => {
          // The same check as GET /v1/servers/{id}: another project's server is not found.
          const { server } = await context.services.compute.getServer(context.principal, id);
          return live(context, { resourceId: server.id }, (event) => {
            const data = event.data as { from?: string; to?: string };
            if (!event.type.startsWith('server.') || data.to === undefined) return null;
            return {
              serverStatus: {
                server_id: server.id,
                event: event.type,
                from: data.from ?? null,
                status: data.to,
                at: event.at,
              },
            };
          });
        },
      },
    },
  },
};
