/** Reading the event stream: `GET /v1/events` (poll with `after`). */
import { Type, type Static } from 'typebox';
import { Nullable, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const StreamEvent = Type.Object({
  seq: Type.Integer(),
  id: Type.String({ description: 'evt_…' }),
  at: Timestamp,
  type: Type.String({ description: 'e.g. server.created; see the event catalog in docs/api.md' }),
  project_id: Nullable(Type.String()),
  resource: Type.Object({ type: Type.String(), id: Type.String() }),
  data: Type.Object(
    {},
    { additionalProperties: true, description: 'the payload of the event type (docs/api.md lists them)' },
  ),
});
export type StreamEvent = Static<typeof StreamEvent>;

/** Filters by resource: the events of one server (`resource_type=server&resource_id=srv_…`), one attack… */
const ResourceTypeQuery = Type.String({
  pattern: '^[a-z][a-z0-9_]{0,39}$',
  description: 'only events of resources of this type (`server`, `volume`, `network`, `ddos_attack`…)',
});
const ResourceIdQuery = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'only events of this resource (its id: `srv_…`, `vol_…`, `net_…`…)',
});

export const ListEventsQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the `last` of the previous answer' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    type: Type.Optional(Type.String({ maxLength: 500, description: 'comma-separated event types' })),
    resource_type: Type.Optional(ResourceTypeQuery),
    resource_id: Type.Optional(ResourceIdQuery),
  },
  { additionalProperties: false },
);
export type ListEventsQuery = Static<typeof ListEventsQuery>;

export const EventPage = Type.Object({ events: Type.Array(StreamEvent), last: Type.Integer() });
export type EventPage = Static<typeof EventPage>;

export const listEvents = defineOperation({
  operationId: 'listEvents',
  method: 'GET',
  path: '/v1/events',
  tags: ['events'],
  summary: 'The event stream: every state change, in order',
  description:
    'Poll with `after` = the `last` of the previous answer. Project tokens see their project, operators everything. ' +
    '`resource_id` (and/or `resource_type`) keeps the events of one resource, in the same order and with the same ' +
    'paging; a resource of another project has no events here.',
  auth: 'project_or_operator',
  query: ListEventsQuery,
  status: 200,
  response: EventPage,
});

export const StreamEventsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        pattern: '^([0-9]{1,20}\\.)?[0-9]{1,15}$',
        description: 'start after this event id of the stream (the `Last-Event-ID` header wins)',
      }),
    ),
    type: Type.Optional(Type.String({ maxLength: 500, description: 'comma-separated event types' })),
    resource_type: Type.Optional(ResourceTypeQuery),
    resource_id: Type.Optional(ResourceIdQuery),
  },
  { additionalProperties: false },
);
export type StreamEventsQuery = Static<typeof StreamEventsQuery>;

export const streamEvents = defineOperation({
  operationId: 'streamEvents',
  method: 'GET',
  path: '/v1/events/stream',
  tags: ['events'],
  summary: 'The event stream, live, as Server-Sent Events',
  description:
    'Each event is one SSE message: `id` is its place in the stream, `data` the event as `GET /v1/events` shows it. ' +
    'Reconnect with `Last-Event-ID` (EventSource does) to resume after the last event received: nothing is lost. ' +
    'A comment line every 15 s keeps idle connections open.',
  auth: 'project_or_operator',
  query: StreamEventsQuery,
  status: 200,
  produces: 'text/event-stream',
});

export const eventStreamOperations = { listEvents, streamEvents };
