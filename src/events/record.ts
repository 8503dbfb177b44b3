import type { Tx, TxHooks } from '../db/index.ts';
import { newId, type Clock, type DomainEvent, type EventBus } from '../core/index.ts';
import type { EventPayloads, EventType } from '../contract/events.ts';
import { insertEvent, insertEvents } from './store.ts';

interface EventSubject {
  projectId: string | null;
  resourceType: string;
  resourceId: string;
}

/** `data` is required unless the payload has no required field. */
type DataOf<K extends EventType> = object extends EventPayloads[K]
  ? { data?: EventPayloads[K] }
  : { data: EventPayloads[K] };

/** An event of one known type: its data is checked against that type's payload. */
export type TypedEventInput<T extends EventType> = { [K in T]: EventSubject & { type: K } & DataOf<K> }[T];

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type IsUnion<T> = [T] extends [UnionToIntersection<T>] ? false : true;

/**
 * What `record` takes. With a literal `type` (`'server.created'`), `data` must be that type's payload.
 * A caller holding a union of types (`type: EventType`) cannot be checked and passes untyped data.
 */
export type EventInput<T extends EventType = EventType> =
  IsUnion<T> extends true ? EventSubject & { type: T; data?: Record<string, unknown> } : TypedEventInput<T>;

export interface EventRecorder {
  /** Writes the event in `tx`; publishes it in-process after commit. */
  record<T extends EventType>(tx: Tx, hooks: TxHooks, input: { type: T } & EventInput<T>): Promise<DomainEvent>;
  /** Several events of one type in one statement (bulk work); each published after commit, in order. */
  recordMany<T extends EventType>(
    tx: Tx,
    hooks: TxHooks,
    inputs: ReadonlyArray<{ type: T } & EventInput<T>>,
  ): Promise<DomainEvent[]>;
}

/**
 * Work done in the event's own transaction for each recorded event (the webhooks' delivery rows): it
 * commits with the event or not at all.
 */
export type EventFanOut = (tx: Tx, event: DomainEvent) => Promise<void>;

export function createEventRecorder(deps: { bus: EventBus; clock: Clock; fanOut?: EventFanOut }): EventRecorder {
  const eventOf = (input: EventSubject & { type: EventType; data?: unknown }): DomainEvent => ({
    id: newId('event', deps.clock.nowMs()),
    at: deps.clock.nowIso(),
    type: input.type as DomainEvent['type'],
    projectId: input.projectId,
    resourceType: input.resourceType,
    resourceId: input.resourceId,
    data: (input.data ?? {}) as Record<string, unknown>,
  });
  return {
    async recordMany(tx, hooks, inputs) {
      const events = inputs.map((input) => eventOf(input as EventSubject & { type: EventType; data?: unknown }));
      await insertEvents(
        tx,
        events.map((event) => ({
          id: event.id,
          at: event.at,
          type: event.type,
          project_id: event.projectId,
          resource_type: event.resourceType,
          resource_id: event.resourceId,
          data_json: JSON.stringify(event.data),
        })),
      );
      if (deps.fanOut) for (const event of events) await deps.fanOut(tx, event);
      hooks.afterCommit(() => {
        for (const event of events) deps.bus.publish(event);
      });
      return events;
    },
    async record(tx, hooks, input) {
      const event: DomainEvent = {
        id: newId('event', deps.clock.nowMs()),
        at: deps.clock.nowIso(),
        // The contract's EventType is the truth; core's copy of the union follows it (see the report).
        type: input.type as DomainEvent['type'],
        projectId: input.projectId,
        resourceType: input.resourceType,
        resourceId: input.resourceId,
        data: (input.data ?? {}) as Record<string, unknown>,
      };
      await insertEvent(tx, {
        id: event.id,
        at: event.at,
        type: event.type,
        project_id: event.projectId,
        resource_type: event.resourceType,
        resource_id: event.resourceId,
        data_json: JSON.stringify(event.data),
      });
      if (deps.fanOut) await deps.fanOut(tx, event);
      hooks.afterCommit(() => deps.bus.publish(event));
      return event;
    },
  };
}
