/**
 * Routes that reach a server's host through its agent's host API: the serial console (WebSocket, through a
 * short-lived single-use ticket), boot logs, disk snapshots and disk export. The control plane proxies;
 * the host does the work (src/agent/host-api).
 *
 * Console tickets live in the memory of this control-plane process (60 s, single use, bound to the server
 * and to the token that asked). With several replicas behind a load balancer, the WebSocket must reach the
 * replica that issued the ticket: route `/v1/servers/{id}/console` with sticky sessions, or ask again.
 */
import { randomBytes } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Api } from '../server.ts';
import type { Db } from '../../../db/index.ts';
import { conflict, systemClock, VmcError, type Clock } from '../../../core/index.ts';
import type { Principal, ProjectRole } from '../../../identity/index.ts';
import type { HostClient, ConsoleStream, WsSocket } from '../../../agent/host-client/index.ts';
import { pipeConsole } from '../../../agent/host-api/index.ts';
import { principalOf } from '../context.ts';
import { IdParams, errorResponses } from '../schemas.ts';

export interface HostedServer {
  id: string;
  name: string;
  /** The host it is placed on; null before placement. */
  hostId: string | null;
  status: string;
}

export interface ServerHostRouteDeps {
  db: Db;
  /** A client of the host's API (address and agent key from the hosts row). */
  hostClientFor: (hostId: string) => Promise<HostClient>;
  /** The server if the principal may act on it with at least `role`; another project's server is not_found. */
  requireServer: (principal: Principal, serverId: string, role: ProjectRole) => Promise<HostedServer>;
  clock?: Clock;
  /** Lifetime of a console ticket (default 60 s). */
  consoleTicketTtlMs?: number;
}

interface ConsoleTicket {
  serverId: string;
  tokenId: string;
  principal: Principal;
  readOnly: boolean;
  expiresAtMs: number;
}

/** Single-use console tickets in this process's memory; expired ones are dropped whenever one is issued. */
export function createConsoleTickets(options: { nowMs: () => number; ttlMs: number }) {
  const tickets = new Map<string, ConsoleTicket>();
  return {
    issue(input: Omit<ConsoleTicket, 'expiresAtMs'>): { ticket: string; expiresAtMs: number } {
      const now = options.nowMs();
      for (const [key, entry] of tickets) if (entry.expiresAtMs <= now) tickets.delete(key);
      const ticket = `ct_${randomBytes(24).toString('base64url')}`;
      const expiresAtMs = now + options.ttlMs;
      tickets.set(ticket, { ...input, expiresAtMs });
      return { ticket, expiresAtMs };
    },
    /** The ticket's grant, consumed; null when unknown, used, expired or for another server. */
    take(ticket: string | undefined, serverId: string): ConsoleTicket | null {
      if (!ticket) return null;
      const entry = tickets.get(ticket);
      if (!entry) return null;
      tickets.delete(ticket);
      if (entry.expiresAtMs <= options.nowMs() || entry.serverId !== serverId) return null;
      return entry;
    },
    size: () => tickets.size,
  };
}

export const Snapshot = Type.Object({
  name: Type.String(),
  id: Type.String({ description: 'qcow2 snapshot id on the host' }),
  created_at: Type.String(),
  vm_state_bytes: Type.Integer({ description: 'always 0: disk-only snapshots' }),
});

const snapshotName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: "1–64 of letters, digits, '.', '_', '-'" });
const SnapshotParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), name: snapshotName });

function requirePlaced(server: HostedServer): string {
  if (!server.hostId) throw conflict(`server ${server.name} is not placed on a host yet`, { reason: 'not_placed' });
  return server.hostId;
}

const invalidTicket = () =>
  new VmcError('unauthenticated', 'the console ticket is missing, unknown, expired or already used: ask for a new one with POST /v1/servers/{id}/console', {
    reason: 'invalid_ticket',
  });

/** `<name>.qcow2` with anything but letters, digits, '.', '_' and '-' replaced. */
export function exportFileName(serverName: string, format: 'qcow2' | 'raw'): string {
  return `${serverName.replace(/[^A-Za-z0-9._-]/g, '_') || 'disk'}.${format}`;
}

function defaultSnapshotName(nowMs: number): string {
  return `snap-${new Date(nowMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

export function registerServerHostRoutes(app: Api, deps: ServerHostRouteDeps) {
  const clock = deps.clock ?? systemClock;
  const tickets = createConsoleTickets({ nowMs: () => clock.nowMs(), ttlMs: deps.consoleTicketTtlMs ?? 60_000 });
  const consoles = new WeakMap<FastifyRequest, ConsoleStream>();

  const hostOf = async (principal: Principal, serverId: string, role: ProjectRole) => {
    const server = await deps.requireServer(principal, serverId, role);
    return { server, client: await deps.hostClientFor(requirePlaced(server)) };
  };

  app.post(
    '/v1/servers/:id/console',
    {
      schema: {
        tags: ['servers'],
        summary: 'Get a console ticket',
        description:
          'A ticket for the serial console WebSocket: valid 60 s, once, for this server. Open `url` (ws:// or wss:// on this host) with it; no Authorization header is needed there. Owners and members only.',
        params: IdParams,
        body: Type.Optional(Type.Union([Type.Object({ read_only: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), Type.Null()])),
        response: { 201: Type.Object({ ticket: Type.String(), url: Type.String(), expires_at: Type.String() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request.principal);
      const server = await deps.requireServer(principal, request.params.id, 'member');
      request.auditResource = { type: 'server', id: server.id };
      requirePlaced(server);
      if (server.status === 'stopped' || server.status === 'deleted') throw conflict(`server ${server.name} is ${server.status}: its console is not running`, { reason: 'not_running' });
      const body = request.body as { read_only?: boolean } | null | undefined;
      const { ticket, expiresAtMs } = tickets.issue({ serverId: server.id, tokenId: principal.tokenId, principal, readOnly: body?.read_only === true });
      return reply.code(201).send({
        ticket,
        url: `/v1/servers/${encodeURIComponent(server.id)}/console?ticket=${ticket}`,
        expires_at: new Date(expiresAtMs).toISOString(),
      });
    },
  );

  app.get(
    '/v1/servers/:id/console',
    {
      websocket: true,
      config: { auth: 'public' },
      schema: { params: IdParams, querystring: Type.Object({ ticket: Type.Optional(Type.String({ maxLength: 200 })) }) },
      // Before the upgrade: a bad ticket is a 401 problem, a stopped server a 409, an unreachable host a 503.
      preHandler: async (request: FastifyRequest) => {
        if (!request.ws) throw new VmcError('invalid', 'this route is a WebSocket: connect with an Upgrade request and the ticket', { reason: 'websocket_required' });
        const { id } = request.params as { id: string };
        const grant = tickets.take((request.query as { ticket?: string }).ticket, id);
        if (!grant) throw invalidTicket();
        // The grant is re-checked now: the server may have been deleted or moved since the ticket was issued.
        const { server, client } = await hostOf(grant.principal, id, 'member');
        const stream = await client.openConsole(server.id, { readOnly: grant.readOnly });
        request.log.info({ server_id: server.id, token_id: grant.tokenId, read_only: grant.readOnly }, 'console session opened');
        consoles.set(request, stream);
      },
    },
    (socket: WsSocket, request: FastifyRequest) => {
      const stream = consoles.get(request);
      if (!stream) {
        socket.close(1011, 'no console');
        return;
      }
      pipeConsole(socket, stream);
    },
  );

  app.get(
    '/v1/servers/:id/logs',
    {
      schema: {
        tags: ['servers'],
        summary: "The server's boot log",
        description: 'The serial console output of the current boot as text/plain (`previous_boot=true`: the boot before). Viewers and up.',
        params: IdParams,
        querystring: Type.Object({ previous_boot: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')])) }, { additionalProperties: false }),
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'text/plain boot log' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { server, client } = await hostOf(principalOf(request.principal), request.params.id, 'viewer');
      const previous = request.query.previous_boot === 'true' || request.query.previous_boot === '1';
      return reply.type('text/plain; charset=utf-8').send(await client.logs(server.id, { previousBoot: previous }));
    },
  );

  app.get(
    '/v1/servers/:id/snapshots',
    { schema: { tags: ['snapshots'], summary: "List a server's disk snapshots", params: IdParams, response: { 200: Type.Object({ snapshots: Type.Array(Snapshot) }), ...errorResponses } } },
    async (request) => {
      const { server, client } = await hostOf(principalOf(request.principal), request.params.id, 'viewer');
      return { snapshots: await client.listSnapshots(server.id) };
    },
  );

  app.post(
    '/v1/servers/:id/snapshots',
    {
      schema: {
        tags: ['snapshots'],
        summary: 'Snapshot the disk of a server',
        description: 'A qcow2 internal snapshot of the disk (no RAM), running or stopped; it takes milliseconds. Snapshots are deleted with the server: export to keep a copy.',
        params: IdParams,
        body: Type.Optional(Type.Union([Type.Object({ name: Type.Optional(snapshotName) }, { additionalProperties: false }), Type.Null()])),
        response: { 201: Type.Object({ snapshot: Snapshot }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { server, client } = await hostOf(principalOf(request.principal), request.params.id, 'member');
      request.auditResource = { type: 'server', id: server.id };
      const body = request.body as { name?: string } | null | undefined;
      const snapshot = await client.createSnapshot(server.id, body?.name ?? defaultSnapshotName(clock.nowMs()));
      return reply.code(201).send({ snapshot });
    },
  );

  app.post(
    '/v1/servers/:id/snapshots/:name/actions/restore',
    {
      schema: {
        tags: ['snapshots'],
        summary: 'Revert the disk to a snapshot',
        description: 'The server must be stopped (409 `server_running` otherwise). Later snapshots are kept.',
        params: SnapshotParams,
        response: { 200: Type.Object({ snapshot: Snapshot }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request.principal);
      const server = await deps.requireServer(principal, request.params.id, 'member');
      request.auditResource = { type: 'server', id: server.id };
      if (server.status !== 'stopped') {
        throw conflict(`server ${server.name} is ${server.status}: stop it before restoring a snapshot`, { reason: 'server_running' });
      }
      const client = await deps.hostClientFor(requirePlaced(server));
      const snapshot = (await client.listSnapshots(server.id)).find((s) => s.name === request.params.name);
      if (!snapshot) throw new VmcError('not_found', `snapshot ${request.params.name} was not found`, { details: { resource: 'snapshot', id: request.params.name } });
      await client.restoreSnapshot(server.id, snapshot.name);
      return { snapshot };
    },
  );

  app.delete(
    '/v1/servers/:id/snapshots/:name',
    { schema: { tags: ['snapshots'], summary: 'Delete a disk snapshot', params: SnapshotParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      const { server, client } = await hostOf(principalOf(request.principal), request.params.id, 'member');
      request.auditResource = { type: 'server', id: server.id };
      await client.deleteSnapshot(server.id, request.params.name);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/servers/:id/export',
    {
      schema: {
        tags: ['servers'],
        summary: "Download the server's disk",
        description:
          'A standalone image of the disk (base image included), qcow2 or raw, streamed as application/octet-stream. From a running server the copy is crash-consistent. Members and owners.',
        params: IdParams,
        querystring: Type.Object({ format: Type.Optional(Type.Union([Type.Literal('qcow2'), Type.Literal('raw')])), compress: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }, { additionalProperties: false }),
        produces: ['application/octet-stream'],
        response: { 200: Type.Any({ description: 'the disk image (application/octet-stream)' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { server, client } = await hostOf(principalOf(request.principal), request.params.id, 'member');
      const format = request.query.format ?? 'qcow2';
      const exported = await client.exportDisk(server.id, { format, compress: request.query.compress === 'true' });
      request.log.info({ server_id: server.id, format, size_bytes: exported.sizeBytes }, 'disk export');
      reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${exportFileName(server.name, exported.format)}"`)
        .header('x-vmcloud-format', exported.format)
        .header('x-vmcloud-from-running-server', String(exported.fromRunningServer));
      if (exported.virtualSizeBytes !== null) reply.header('x-vmcloud-virtual-size-bytes', exported.virtualSizeBytes);
      if (exported.sizeBytes !== null) reply.header('content-length', exported.sizeBytes);
      return reply.send(exported.stream);
    },
  );
}
