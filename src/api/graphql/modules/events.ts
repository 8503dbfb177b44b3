import { restQuery, type GraphqlContext, type GraphqlModule } from '../module.ts';
import { listEvents, type StreamEvent } from '../../../contract/index.ts';
import { requireProject } from '../../../identity/index.ts';

/**
 * An async iterator over the live stream that ends at once when the client unsubscribes (`return()`),
 * even while it waits for the next event.
 */
function live<T>(
  context: GraphqlContext,
  filter: { types?: string[]; resourceId?: string; resourceType?: string },
  map: (event: StreamEvent) => T | null,
): AsyncIterableIterator<T> {
  const controller = new AbortController();
  const projectId =
    context.principal.kind === 'operator' ? null : requireProject(context.principal, 'viewer').projectId;
  const source = context.services.events.follow({
    after: null,
    projectId,
    types: filter.types,
    resourceId: filter.resourceId,
    resourceType: filter.resourceType,
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
      "The event stream in order (poll with after = last); resource_type/resource_id keep one resource's events."
      events(after: Float, limit: Int, types: [String!], resource_type: String, resource_id: String): EventPage!
    }
    extend type Subscription {
      "The project's events as they happen (operators: every event); optionally one resource's only."
      projectEvents(types: [String!], resource_type: String, resource_id: String): Event!
      "A server's status changes as its host reports them."
      serverStatus(id: ID!): ServerStatusChange!
    }
  `,
  resolvers: {
    Query: {
      events: (_p, args, { principal, services }) => {
        const projectId = principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;
        // The bounds of GET /v1/events: a cursor and a limit of digits, a resource type of one word.
        const query = restQuery(listEvents, {
          after: args.after,
          limit: args.limit,
          resource_type: args.resource_type,
          resource_id: args.resource_id,
        });
        return services.events.list({
          projectId,
          after: Number(query.after ?? 0),
          limit: Number(query.limit ?? 100),
          types: args.types ?? undefined,
          resourceId: query.resource_id,
          resourceType: query.resource_type,
        });
      },
    },
    Subscription: {
      projectEvents: {
        subscribe: (_p, args, context) => {
          const query = restQuery(listEvents, { resource_type: args.resource_type, resource_id: args.resource_id });
          return live(
            context,
            { types: args.types ?? undefined, resourceId: query.resource_id, resourceType: query.resource_type },
            (event) => ({ projectEvents: event }),
          );
        },
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
