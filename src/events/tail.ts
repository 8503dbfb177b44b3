/**
 * Following the event stream live (Server-Sent Events, GraphQL subscriptions): reads the ordered stream
 * after a cursor, and again whenever this process publishes an event (the bus) or every `pollIntervalMs`
 * (events of other replicas; on PostgreSQL an event becomes readable once every older transaction has
 * ended). Each event comes with its cursor: resuming after it loses nothing.
 */
import type { Kysely } from 'kysely';
import type { Db, DialectName } from '../db/index.ts';
import type { EventBus } from '../core/index.ts';
import type { Event } from '../contract/events.ts';
import { encodeStreamCursor, parseStreamCursor } from './ordered-read.ts';
import { readEvents, streamHead } from './query.ts';

export interface TailFilter {
  /** A cursor (`encodeStreamCursor` text) to start after; null: from now on. */
  after: string | null;
  projectId: string | null;
  types?: string[];
  /** Only events of this resource (a server's status), and/or of this resource type. */
  resourceId?: string;
  resourceType?: string;
  signal: AbortSignal;
}

export interface EventTail {
  follow(filter: TailFilter): AsyncGenerator<{ event: Event; cursor: string }>;
  /** The cursor of the stream's end now (what `after: null` starts from). */
  head(): Promise<string>;
}

export function createEventTail(deps: {
  db: Db;
  dialect: DialectName;
  bus: EventBus;
  pollIntervalMs?: number;
}): EventTail {
  const pollIntervalMs = deps.pollIntervalMs ?? 500;
  const q = deps.db as unknown as Kysely<unknown>;

  const head = async () => encodeStreamCursor(await streamHead(q, deps.dialect));

  return {
    head,
    async *follow(filter) {
      let cursor = filter.after === null ? parseStreamCursor(await head()) : parseStreamCursor(filter.after);
      let wake: (() => void) | null = null;
      const unsubscribe = deps.bus.subscribe((event) => {
        if (filter.projectId === null || event.projectId === filter.projectId) wake?.();
      });
      const onAbort = () => wake?.();
      filter.signal.addEventListener('abort', onAbort);
      try {
        while (!filter.signal.aborted) {
          const page = await readEvents(q, deps.dialect, {
            after: cursor,
            limit: 500,
            projectId: filter.projectId,
            types: filter.types,
            resourceId: filter.resourceId,
            resourceType: filter.resourceType,
          });
          for (let i = 0; i < page.events.length; i++) {
            const event = page.events[i];
            yield { event, cursor: encodeStreamCursor(page.cursors[i]) };
          }
          cursor = page.last;
          if (page.events.length === 500) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, pollIntervalMs);
            function done() {
              clearTimeout(timer);
              wake = null;
              resolve();
            }
            wake = done;
          });
        }
      } finally {
        unsubscribe();
        filter.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}
