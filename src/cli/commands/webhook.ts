/** `vmcloud webhook create|list|show|update|delete|rotate-secret|deliveries|retry|replay|test`. */
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  replayWebhook,
  retryWebhookDelivery,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
  type CreateWebhookBody,
  type UpdateWebhookBody,
  type Webhook,
  type WebhookDelivery,
} from '../../contract/index.ts';
import { flagOf, integerOf, requiredString, stringOf, stringsOf, type Command, type Group } from '../command.ts';
import { formatAge, renderData, renderDetail, renderList, type Column } from '../output.ts';
import { listPages } from '../pagination.ts';

const eventList = (values: Record<string, unknown>) =>
  stringsOf(values as never, 'events')
    .flatMap((e) => e.split(','))
    .map((e) => e.trim())
    .filter((e) => e !== '');

function columns(nowMs: number): Column<Webhook>[] {
  return [
    { header: 'id', value: (w) => w.id },
    { header: 'url', value: (w) => w.url },
    { header: 'events', value: (w) => w.events.join(',') },
    { header: 'enabled', value: (w) => (w.enabled ? 'yes' : `no (${w.disabled_reason ?? 'manual'})`) },
    { header: 'failing since', value: (w) => w.failing_since },
    { header: 'age', value: (w) => formatAge(w.created_at, nowMs), align: 'right' },
  ];
}

function detail(w: Webhook, nowMs: number, secret?: string): string {
  return renderDetail([
    ['ID', w.id],
    ['URL', w.url],
    ['Description', w.description || null],
    ['Events', w.events.join(', ')],
    ['Enabled', w.enabled ? 'yes' : `no (${w.disabled_reason ?? 'manual'})`],
    ['Failing since', w.failing_since],
    ...(w.previous_secret_expires_at ? ([['Old secret signs until', w.previous_secret_expires_at]] as const) : []),
    ...(secret ? ([['Secret', `${secret}   (shown once: keep it now)`]] as const) : []),
    ['Created', `${w.created_at} (${formatAge(w.created_at, nowMs)} ago)`],
  ]);
}

const deliveryColumns: Column<WebhookDelivery>[] = [
  { header: 'id', value: (d) => d.id },
  { header: 'event', value: (d) => d.event_type },
  { header: 'resource', value: (d) => d.resource.id },
  { header: 'status', value: (d) => d.status },
  { header: 'attempts', value: (d) => d.attempts, align: 'right' },
  { header: 'last code', value: (d) => d.last_status_code ?? d.last_error },
  { header: 'next attempt', value: (d) => d.next_attempt_at },
  { header: 'created', value: (d) => d.created_at },
];

const webhookArg = [{ name: 'ID', required: true }];

const create: Command = {
  name: 'create',
  summary: 'register an endpoint (prints its signing secret once)',
  usage: '--url URL [--events TYPE[,TYPE]] [--description TEXT] [--disabled]',
  options: {
    url: { type: 'string', arg: 'URL', help: 'https URL receiving the deliveries' },
    events: {
      type: 'string',
      multiple: true,
      arg: 'TYPES',
      help: "event filters, e.g. 'server.*,backup.*' (default *)",
    },
    description: { type: 'string', arg: 'TEXT', help: 'what it is for' },
    disabled: { type: 'boolean', help: 'create it disabled' },
  },
  examples: ["vmcloud webhook create --url https://ops.example.com/hooks --events 'server.*,backup.*'"],
  async run(ctx, { values }) {
    const body: CreateWebhookBody = { url: requiredString(values, 'url') };
    const events = eventList(values);
    if (events.length > 0) body.events = events;
    const description = stringOf(values, 'description');
    if (description !== undefined) body.description = description;
    if (flagOf(values, 'disabled')) body.enabled = false;
    const client = await ctx.client();
    const created = await client.call(createWebhook, { body });
    ctx.out(
      ctx.output === 'table' ? detail(created.webhook, ctx.now(), created.secret) : renderData(ctx.output, created),
    );
    return 0;
  },
};

const list: Command = {
  name: 'list',
  summary: 'list endpoints',
  usage: '',
  examples: ['vmcloud webhook list'],
  async run(ctx) {
    const client = await ctx.client();
    const { items } = await listPages(
      async (cursor) => {
        const page = await client.call(listWebhooks, { query: { cursor } });
        return { items: page.webhooks, next_cursor: page.next_cursor };
      },
      true,
      undefined,
    );
    ctx.out(renderList(ctx.output, columns(ctx.now()), items, 'No webhooks.'));
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'show one endpoint',
  usage: 'ID',
  args: webhookArg,
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { webhook } = await client.call(getWebhook, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? detail(webhook, ctx.now()) : renderData(ctx.output, webhook));
    return 0;
  },
};

const update: Command = {
  name: 'update',
  summary: 'change the URL, filters, description; enable or disable',
  usage: 'ID [--url URL] [--events TYPES] [--description TEXT] [--enable|--disable]',
  args: webhookArg,
  options: {
    url: { type: 'string', arg: 'URL', help: 'new URL' },
    events: { type: 'string', multiple: true, arg: 'TYPES', help: 'new event filters' },
    description: { type: 'string', arg: 'TEXT', help: 'new description' },
    enable: { type: 'boolean', help: 'enable (clears a failure record: pending deliveries resume)' },
    disable: { type: 'boolean', help: 'disable' },
  },
  async run(ctx, { positionals, values }) {
    const body: UpdateWebhookBody = {};
    const url = stringOf(values, 'url');
    if (url !== undefined) body.url = url;
    const events = eventList(values);
    if (events.length > 0) body.events = events;
    const description = stringOf(values, 'description');
    if (description !== undefined) body.description = description;
    if (flagOf(values, 'enable')) body.enabled = true;
    if (flagOf(values, 'disable')) body.enabled = false;
    const client = await ctx.client();
    const { webhook } = await client.call(updateWebhook, { params: { id: positionals[0] }, body });
    ctx.out(ctx.output === 'table' ? detail(webhook, ctx.now()) : renderData(ctx.output, webhook));
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete an endpoint (pending deliveries are dropped)',
  usage: 'ID',
  args: webhookArg,
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    await client.call(deleteWebhook, { params: { id: positionals[0] } });
    ctx.out(
      ctx.output === 'table'
        ? `webhook ${positionals[0]} deleted\n`
        : renderData(ctx.output, { deleted: positionals[0] }),
    );
    return 0;
  },
};

const rotate: Command = {
  name: 'rotate-secret',
  summary: 'new signing secret (printed once); the old one keeps signing during the overlap',
  usage: 'ID [--overlap-seconds N]',
  args: webhookArg,
  options: {
    'overlap-seconds': { type: 'string', arg: 'N', help: 'how long the old secret signs too (default 86400)' },
  },
  async run(ctx, { positionals, values }) {
    const overlap = integerOf(values, 'overlap-seconds', { min: 0, max: 7 * 86_400 });
    const client = await ctx.client();
    const rotated = await client.call(rotateWebhookSecret, {
      params: { id: positionals[0] },
      body: overlap === undefined ? {} : { overlap_seconds: overlap },
    });
    ctx.out(
      ctx.output === 'table' ? detail(rotated.webhook, ctx.now(), rotated.secret) : renderData(ctx.output, rotated),
    );
    return 0;
  },
};

const deliveries: Command = {
  name: 'deliveries',
  summary: 'deliveries of an endpoint, newest first, with their attempts (-o json)',
  usage: 'ID [--status pending|succeeded|failed] [--limit N]',
  args: webhookArg,
  options: {
    status: { type: 'string', arg: 'STATUS', help: 'only deliveries in this status' },
    limit: { type: 'string', arg: 'N', help: 'deliveries per page (1-100, default 50)' },
    cursor: { type: 'string', arg: 'CURSOR', help: 'start after this cursor' },
  },
  async run(ctx, { positionals, values }) {
    const limit = integerOf(values, 'limit', { min: 1, max: 100 });
    const status = stringOf(values, 'status') as 'pending' | 'succeeded' | 'failed' | undefined;
    const client = await ctx.client();
    const page = await client.call(listWebhookDeliveries, {
      params: { id: positionals[0] },
      query: { status, limit: limit === undefined ? undefined : String(limit), cursor: stringOf(values, 'cursor') },
    });
    ctx.out(renderList(ctx.output, deliveryColumns, page.deliveries, 'No deliveries.'));
    if (page.next_cursor) ctx.err(`more deliveries: pass --cursor ${page.next_cursor}\n`);
    return 0;
  },
};

const retry: Command = {
  name: 'retry',
  summary: 'send a delivery again now (same webhook-id)',
  usage: 'ID DELIVERY_ID',
  args: [...webhookArg, { name: 'DELIVERY_ID', required: true }],
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { delivery } = await client.call(retryWebhookDelivery, {
      params: { id: positionals[0], delivery_id: positionals[1] },
    });
    ctx.out(ctx.output === 'table' ? `delivery ${delivery.id} queued again\n` : renderData(ctx.output, delivery));
    return 0;
  },
};

const replay: Command = {
  name: 'replay',
  summary: 'resend the matching events since a time (new webhook-ids)',
  usage: 'ID --since TIME [--until TIME]',
  args: webhookArg,
  options: {
    since: { type: 'string', arg: 'TIME', help: 'ISO-8601 time, e.g. 2026-11-30T12:00:00Z' },
    until: { type: 'string', arg: 'TIME', help: 'ISO-8601 time (default now)' },
  },
  async run(ctx, { positionals, values }) {
    const until = stringOf(values, 'until');
    const client = await ctx.client();
    const result = await client.call(replayWebhook, {
      params: { id: positionals[0] },
      body: { since: requiredString(values, 'since'), ...(until ? { until } : {}) },
    });
    ctx.out(
      ctx.output === 'table'
        ? `${result.queued} deliveries queued${result.truncated ? ' (truncated: replay again from later)' : ''}\n`
        : renderData(ctx.output, result),
    );
    return 0;
  },
};

const testCommand: Command = {
  name: 'test',
  summary: 'send a webhook.test delivery',
  usage: 'ID',
  args: webhookArg,
  async run(ctx, { positionals }) {
    const client = await ctx.client();
    const { delivery } = await client.call(testWebhook, { params: { id: positionals[0] } });
    ctx.out(ctx.output === 'table' ? `test delivery ${delivery.id} queued\n` : renderData(ctx.output, delivery));
    return 0;
  },
};

export const webhookGroup: Group = {
  name: 'webhook',
  summary: 'webhook endpoints: signed deliveries of the project’s events',
  commands: [create, list, show, update, remove, rotate, deliveries, retry, replay, testCommand],
};
