import type { Route } from '../route.ts';
import { requireProject, type Principal } from '../../../identity/index.ts';
import { invalid } from '../../../core/index.ts';
import { listEvents, streamEvents, type EventPage, type StreamEvent } from '../../../contract/index.ts';

/** Reads the ordered event stream (the events domain). */
export interface EventStream {
  list(filter: {
    projectId: string | null;
    after: number;
    limit: number;
    types?: string[];
    resourceId?: string;
    resourceType?: string;
  }): Promise<EventPage>;
  /** Follows the stream live after a cursor (null: from now on), until the signal aborts. */
  follow(filter: {
    after: string | null;
    projectId: string | null;
    types?: string[];
    resourceId?: string;
    resourceType?: string;
    signal: AbortSignal;
  }): AsyncIterable<{ event: StreamEvent; cursor: string }>;
}

const cursorPattern = /^([0-9]{1,20}\.)?[0-9]{1,15}$/;
export const sseHeartbeatMs = 15_000;

/** The project a principal's stream is scoped to (null: an operator's, every project). */
const streamScope = (principal: Principal) =>
  principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;

export function registerEventRoutes(route: Route, deps: { events: EventStream; heartbeatMs?: number }) {
  const heartbeatMs = deps.heartbeatMs ?? sseHeartbeatMs;
  route(listEvents, async ({ principal, query }) => {
    const projectId = principal.kind === 'operator' ? null : requireProject(principal, 'viewer').projectId;
    return deps.events.list({
      projectId,
      after: Number(query.after ?? 0),
      limit: Number(query.limit ?? 100),
      types: query.type ? query.type.split(',').map((t) => t.trim()) : undefined,
      resourceId: query.resource_id,
      resourceType: query.resource_type,
    });
  });

  route(streamEvents, async ({ principal, query, request, reply }) => {
    const projectId = streamScope(principal);
    const lastEventId = request.headers['last-event-id'];
    const after = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : (query.after ?? null);
    if (after !== null && !cursorPattern.test(after))
      throw invalid('Last-Event-ID must be the id of an event of this stream', {
        fields: [{ field: 'Last-Event-ID', message: 'must be <seq> or <tx>.<seq>' }],
      });
    const types = query.type ? query.type.split(',').map((t) => t.trim()) : undefined;
    const controller = new AbortController();
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    out.write(': connected\nretry: 2000\n\n');
    const stop = () => controller.abort();
    // Each heartbeat checks the credential again: a revoked token, a closed session or a member removed
    // from the project (or made a non-member) ends the stream; the client's reconnection then gets 401/404.
    const recheck = async () => {
      try {
        const now = await request.credentialCheck?.();
        if (now && streamScope(now) !== projectId) throw new Error('the stream is no longer this credential’s');
      } catch {
        if (!out.writableEnded) out.write(': the credential is no longer valid\n\n');
        stop();
      }
    };
    const heartbeat = setInterval(() => {
      out.write(': keep-alive\n\n');
      void recheck();
    }, heartbeatMs);
    request.raw.on('close', stop);
    out.on('close', stop);
    try {
      for await (const { event, cursor } of deps.events.follow({
        after,
        projectId,
        types,
        resourceId: query.resource_id,
        resourceType: query.resource_type,
        signal: controller.signal,
      })) {
        if (!out.write(`id: ${cursor}\ndata: ${JSON.stringify(event)}\n\n`))
          await new Promise((resolve) => out.once('drain', resolve));
      }
    } catch (error) {
      request.log.warn({ err: String(error) }, 'event stream ended by an error');
    } finally {
      clearInterval(heartbeat);
      out.end();
    }
    return reply;
  });
}
