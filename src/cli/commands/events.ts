/**
 * `vmcloud events [--after SEQ] [--type T] [--resource ID] [--follow]`: the event stream (GET /v1/events),
 * every state change in order, or one resource's. Project tokens see their project, operator tokens everything. `--follow` keeps the
 * Server-Sent Events stream (GET /v1/events/stream) open until interrupted, and reconnects after a cut
 * with Last-Event-ID: nothing is lost, nothing repeated.
 */
import { VmcError } from '../../core/errors.ts';
import { listEvents, streamEvents, type EventPage, type StreamEvent as Event } from '../../contract/index.ts';
import type { ApiClient } from '../../client/index.ts';
import { flagOf, integerOf, stringOf, stringsOf, type Command, type Context } from '../command.ts';
import { resolveServer } from '../resolve.ts';
import { cellText, renderData, renderList, renderYaml, type Column } from '../output.ts';

/** Wait before reconnecting a cut stream. */
export const followIntervalMs = 1000;
/** The API's page size when no --limit is given. */
const defaultLimit = 100;

export const eventColumns: Column<Event>[] = [
  { header: 'seq', value: (e) => e.seq, align: 'right' },
  { header: 'time', value: (e) => e.at },
  { header: 'type', value: (e) => e.type },
  { header: 'resource', value: (e) => `${e.resource.type} ${e.resource.id}` },
  { header: 'data', value: (e) => e.data },
];

/** One event as one line of `--follow`: the table's cells, unpadded, so each line can be printed as it comes. */
export function eventLine(event: Event): string {
  return eventColumns.map((column) => cellText(column.value(event))).join('   ') + '\n';
}

/** `--follow` output: one line per event (table), one JSON object per line, or one YAML document per event. */
function streamText(ctx: Context, events: Event[]): string {
  if (ctx.output === 'json') return events.map((e) => JSON.stringify(e) + '\n').join('');
  if (ctx.output === 'yaml') return events.map((e) => '---\n' + renderYaml(e)).join('');
  return events.map(eventLine).join('');
}

/** The filters of both reads: event types and one resource. */
interface EventFilter {
  type?: string;
  resource_id?: string;
  resource_type?: string;
}

async function fetchPage(
  client: ApiClient,
  after: number,
  filter: EventFilter,
  limit: number | undefined,
): Promise<EventPage> {
  return client.call(listEvents, {
    query: {
      after: after === undefined ? undefined : String(after),
      ...filter,
      limit: limit === undefined ? undefined : String(limit),
    },
  });
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'the event stream: server.created, server.started, host.state_changed… (--follow to tail it)',
  usage: '[--after SEQ] [--type TYPE[,TYPE]] [--resource ID [--resource-type TYPE]] [--limit N] [--follow]',
  description:
    'Lists events after sequence number SEQ (default 0: from the start), oldest first. Project tokens see their\n' +
    'project’s events, operator tokens every event. --resource keeps the events of one resource (its id: srv_…,\n' +
    'vol_…, net_…, a DDoS attack’s…; a server also by name), --resource-type those of one kind of resource. --follow prints what follows SEQ, then each new event as it\n' +
    'happens (a Server-Sent Events stream, reconnected after a cut without losing events) until interrupted\n' +
    '(Ctrl-C); with -o json it prints one JSON object per line.',
  options: {
    after: { type: 'string', arg: 'SEQ', help: 'only events after this sequence number' },
    type: {
      type: 'string',
      multiple: true,
      arg: 'TYPE',
      help: 'only events of this type (or several, comma separated)',
    },
    resource: { type: 'string', arg: 'ID', help: 'only events of this resource (an id, e.g. srv_…, or a server name)' },
    'resource-type': { type: 'string', arg: 'TYPE', help: 'only events of resources of this type (e.g. server)' },
    limit: { type: 'string', arg: 'N', help: 'events per request (1-1000, default 100)' },
    follow: { type: 'boolean', short: 'f', help: 'print new events as they happen until interrupted' },
  },
  examples: [
    'vmcloud events --type server.created,server.deleted',
    'vmcloud events --resource srv_01j… --type server.started,server.stopped',
    'vmcloud events --after 1200 --follow',
    'vmcloud events -f -o json | jq .type',
  ],
  async run(ctx, { values }) {
    let after = integerOf(values, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;
    const limit = integerOf(values, 'limit', { min: 1, max: 1000 });
    const types = stringsOf(values, 'type')
      .flatMap((t) => t.split(','))
      .map((t) => t.trim())
      .filter((t) => t !== '');
    const type = types.length > 0 ? types.join(',') : undefined;
    const resource = stringOf(values, 'resource')?.trim();
    const resourceType = stringOf(values, 'resource-type')?.trim();
    const pageSize = limit ?? defaultLimit;
    const client = await ctx.client();
    // An id (`srv_…`, `net_…`, `atk_…`) as it is; anything else is taken for a server's name.
    const resourceId =
      resource && !/^[a-z]+_[0-9a-z]+$/.test(resource) ? (await resolveServer(client, resource)).id : resource;
    const filter: EventFilter = {
      type,
      resource_id: resourceId || undefined,
      resource_type: resourceType || undefined,
    };

    if (!flagOf(values, 'follow')) {
      const page = await fetchPage(client, after, filter, limit);
      ctx.out(
        ctx.output === 'table'
          ? renderList('table', eventColumns, page.events, 'No events.')
          : renderData(ctx.output, page.events),
      );
      if (page.events.length === pageSize) ctx.err(`more events: pass --after ${page.last} for the next page\n`);
      return 0;
    }

    const sleep = ctx.io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const signal = ctx.io.signal;
    let lastEventId: string | null = String(after);
    while (!signal?.aborted) {
      try {
        for await (const message of client.stream(streamEvents, { query: filter, lastEventId, signal })) {
          const event = JSON.parse(message.data) as Event;
          ctx.out(streamText(ctx, [event]));
          lastEventId = message.id;
          after = event.seq;
        }
      } catch (error) {
        // A cut connection (a restarted replica, a proxy's timeout): reconnect; anything else ends the command.
        if (!(error instanceof VmcError) || error.code !== 'unavailable') throw error;
      }
      if (!signal?.aborted) await sleep(followIntervalMs);
    }
    ctx.err(`stopped: resume with --after ${after}\n`);
    return 0;
  },
};
