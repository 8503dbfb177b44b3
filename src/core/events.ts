/**
 * Typed events for every state change. They are written to the `events` table in the transaction that
 * made the change (so webhooks, audit, metering and the console's live view read one durable stream)
 * and published in-process once that transaction commits.
 */
import type { EventType } from '../contract/events.ts';

export type { EventType };

export interface DomainEvent {
  id: string;
  at: string;
  type: EventType;
  projectId: string | null;
  resourceType: string;
  resourceId: string;
  data: Record<string, unknown>;
}

export type EventListener = (event: DomainEvent) => void;

export interface EventBus {
  publish(event: DomainEvent): void;
  subscribe(listener: EventListener): () => void;
}

export function createEventBus(): EventBus {
  const listeners = new Set<EventListener>();
  return {
    publish(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A listener's failure never breaks the writer.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
