import type { Tx, TxHooks } from '../db/index.ts';
import { newId, type Clock, type DomainEvent, type EventBus, type EventType } from '../core/index.ts';

export interface EventInput {
  type: EventType;
  projectId: string | null;
  resourceType: string;
  resourceId: string;
  data?: Record<string, unknown>;
}

export interface EventRecorder {
  /** Writes the event in `tx`; publishes it in-process after commit. */
  record(tx: Tx, hooks: TxHooks, input: EventInput): Promise<DomainEvent>;
}

export function createEventRecorder(deps: { bus: EventBus; clock: Clock }): EventRecorder {
  return {
    async record(tx, hooks, input) {
      const event: DomainEvent = {
        id: newId('event', deps.clock.nowMs()),
        at: deps.clock.nowIso(),
        type: input.type,
        projectId: input.projectId,
        resourceType: input.resourceType,
        resourceId: input.resourceId,
        data: input.data ?? {},
      };
      await tx
        .insertInto('events')
        .values({
          id: event.id,
          at: event.at,
          type: event.type,
          project_id: event.projectId,
          resource_type: event.resourceType,
          resource_id: event.resourceId,
          data_json: JSON.stringify(event.data),
        })
        .execute();
      hooks.afterCommit(() => deps.bus.publish(event));
      return event;
    },
  };
}
