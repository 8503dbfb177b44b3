/**
 * Routes that reach a server's host through its agent's host API: the serial console (WebSocket, through a
 * short-lived single-use ticket), boot logs, disk snapshots and disk export. The control plane proxies;
 * the host does the work (src/agent/host-api).
 *
 * Console tickets (60 s, single use, bound to the server and to the token that asked; the token is
 * checked again when the ticket is used) live in the database (src/identity/console-tickets.ts): the
 * WebSocket may reach any replica behind the load balancer. Tests may keep them in memory
 * (`createConsoleTickets` here). Tickets never reach a log line: request URLs are logged without their
 * query string.
 */
import { randomBytes } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { Api } from '../server.ts';
import type { Route } from '../route.ts';
import { conflict, systemClock, VmcError, type Clock } from '../../../core/index.ts';
import type { Principal, ProjectRole } from '../../../identity/index.ts';
import type { HostedServer } from '../../../compute/index.ts';
import type { HostClient, ConsoleStream, WsSocket } from '../../../agent/host-client/index.ts';
import { pipeConsole } from '../../../agent/host-api/index.ts';
import { auditActions } from '../../../audit/index.ts';
import {
  IdParams,
  createConsoleTicket,
  createSnapshot,
  deleteSnapshot,
  exportServerDisk,
  getServerLogs,
  listSnapshots,
  restoreSnapshot,
} from '../../../contract/index.ts';

export interface ServerHostRouteDeps {
  /** A client of the host's API (address and agent key from the hosts row). */
  hostClientFor: (hostId: string) => Promise<HostClient>;
  /** The server if the principal may act on it with at least `role`; another project's server is not_found. */
  requireServer: (principal: Principal, serverId: string, role: ProjectRole) => Promise<HostedServer>;
  /** Throws `unauthenticated` when the token was revoked or expired since it was checked. */
  recheckToken: (tokenId: string) => Promise<void>;
  clock?: Clock;
  /** Where tickets live (the database, shared by the replicas); default: this process's memory. */
  consoleTickets?: ConsoleTicketStore;
  /** Lifetime of a console ticket kept in memory (default 60 s). */
  consoleTicketTtlMs?: number;
}

export interface ConsoleTicketStore {
  issue(input: Omit<ConsoleTicket, 'expiresAtMs'>): Promise<{ ticket: string; expiresAtMs: number }>;
  /** The ticket's grant, consumed; null when unknown, used, expired or for another server. */
  take(ticket: string | undefined, serverId: string): Promise<ConsoleTicket | null>;
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
    async issue(input: Omit<ConsoleTicket, 'expiresAtMs'>): Promise<{ ticket: string; expiresAtMs: number }> {
      const now = options.nowMs();
      for (const [key, entry] of tickets) if (entry.expiresAtMs <= now) tickets.delete(key);
      const ticket = `ct_${randomBytes(24).toString('base64url')}`;
      const expiresAtMs = now + options.ttlMs;
      tickets.set(ticket, { ...input, expiresAtMs });
      return { ticket, expiresAtMs };
    },
    /** The ticket's grant, consumed; null when unknown, used, expired or for another server. */
    async take(ticket: string | undefined, serverId: string): Promise<ConsoleTicket | null> {
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

function requirePlaced(server: HostedServer): string {
  if (!server.hostId) throw conflict(`server ${server.name} is not placed on a host yet`, { reason: 'not_placed' });
  return server.hostId;
}

const invalidTicket = () =>
  new VmcError(
    'unauthenticated',
    'the console ticket is missing, unknown, expired or already used: ask for a new one with POST /v1/servers/{id}/console',
    { reason: 'invalid_ticket' },
  );

/** `<name>.qcow2` with anything but letters, digits, '.', '_' and '-' replaced. */
export function exportFileName(serverName: string, format: 'qcow2' | 'raw'): string {
  return `${serverName.replace(/[^A-Za-z0-9._-]/g, '_') || 'disk'}.${format}`;
}

function defaultSnapshotName(nowMs: number): string {
  return `snap-${new Date(nowMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
}

export function registerServerHostRoutes(app: Api, route: Route, deps: ServerHostRouteDeps) {
  const clock = deps.clock ?? systemClock;
  const tickets: ConsoleTicketStore =
    deps.consoleTickets ??
    createConsoleTickets({ nowMs: () => clock.nowMs(), ttlMs: deps.consoleTicketTtlMs ?? 60_000 });
  const consoles = new WeakMap<FastifyRequest, ConsoleStream>();

  const hostOf = async (principal: Principal, serverId: string, role: ProjectRole) => {
    const server = await deps.requireServer(principal, serverId, role);
    return { server, client: await deps.hostClientFor(requirePlaced(server)) };
  };

  route(createConsoleTicket, async ({ principal, params, body }) => {
    const server = await deps.requireServer(principal, params.id, 'member');
    requirePlaced(server);
    if (server.status === 'stopped' || server.status === 'deleted')
      throw conflict(`server ${server.name} is ${server.status}: its console is not running`, {
        reason: 'not_running',
      });
    const { ticket, expiresAtMs } = await tickets.issue({
      serverId: server.id,
      tokenId: principal.tokenId,
      principal,
      readOnly: body?.read_only === true,
    });
    return {
      ticket,
      url: `/v1/servers/${encodeURIComponent(server.id)}/console?ticket=${ticket}`,
      expires_at: new Date(expiresAtMs).toISOString(),
    };
  });

  app.get(
    '/v1/servers/:id/console',
    {
      websocket: true,
      config: { auth: 'public' },
      schema: {
        hide: true,
        params: IdParams,
        querystring: Type.Object({ ticket: Type.Optional(Type.String({ maxLength: 200 })) }),
      },
      // Before the upgrade: a bad ticket is a 401 problem, a stopped server a 409, an unreachable host a 503.
      preHandler: async (request: FastifyRequest) => {
        if (!request.ws)
          throw new VmcError('invalid', 'this route is a WebSocket: connect with an Upgrade request and the ticket', {
            reason: 'websocket_required',
          });
        const { id } = request.params as { id: string };
        const grant = await tickets.take((request.query as { ticket?: string }).ticket, id);
        if (!grant) throw invalidTicket();
        // The grant is checked again now: the token may have been revoked, the server deleted or moved.
        await deps.recheckToken(grant.tokenId);
        const { server, client } = await hostOf(grant.principal, id, 'member');
        const stream = await client.openConsole(server.id, { readOnly: grant.readOnly });
        await app.auditAccess(request, {
          action: auditActions.consoleOpened,
          resourceType: 'server',
          resourceId: server.id,
          principal: grant.principal,
        });
        request.log.info(
          { server_id: server.id, token_id: grant.tokenId, read_only: grant.readOnly },
          'console session opened',
        );
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

  route(getServerLogs, async ({ principal, params, query, request, reply }) => {
    const { server, client } = await hostOf(principal, params.id, 'viewer');
    const previous = query.previous_boot === 'true' || query.previous_boot === '1';
    const text = await client.logs(server.id, { previousBoot: previous });
    await app.auditAccess(request, { action: auditActions.logRead, resourceType: 'server', resourceId: server.id });
    return reply.code(200).type('text/plain; charset=utf-8').send(text);
  });

  route(listSnapshots, async ({ principal, params }) => {
    const { server, client } = await hostOf(principal, params.id, 'viewer');
    return { snapshots: await client.listSnapshots(server.id) };
  });

  route(createSnapshot, async ({ principal, params, body }) => {
    const { server, client } = await hostOf(principal, params.id, 'member');
    return { snapshot: await client.createSnapshot(server.id, body?.name ?? defaultSnapshotName(clock.nowMs())) };
  });

  route(restoreSnapshot, async ({ principal, params }) => {
    const server = await deps.requireServer(principal, params.id, 'member');
    if (server.status !== 'stopped') {
      throw conflict(`server ${server.name} is ${server.status}: stop it before restoring a snapshot`, {
        reason: 'server_running',
      });
    }
    const client = await deps.hostClientFor(requirePlaced(server));
    const snapshot = (await client.listSnapshots(server.id)).find((s) => s.name === params.name);
    if (!snapshot)
      throw new VmcError('not_found', `snapshot ${params.name} was not found`, {
        details: { resource: 'snapshot', id: params.name },
      });
    await client.restoreSnapshot(server.id, snapshot.name);
    return { snapshot };
  });

  route(deleteSnapshot, async ({ principal, params }) => {
    const { server, client } = await hostOf(principal, params.id, 'member');
    await client.deleteSnapshot(server.id, params.name);
  });

  route(exportServerDisk, async ({ principal, params, query, request, reply }) => {
    const { server, client } = await hostOf(principal, params.id, 'member');
    const format = query.format ?? 'qcow2';
    const encrypted = query.encrypted === 'true';
    if (encrypted && format !== 'qcow2')
      throw new VmcError('invalid', 'an encrypted export is a qcow2 (raw has no encryption header)', {
        fields: [{ field: 'format', message: 'must be qcow2 with encrypted=true' }],
      });
    // A fresh key for this export only (never the disk's): handed to the owner once, stored nowhere.
    const exportKey = encrypted ? randomBytes(32).toString('base64') : undefined;
    const exported = await client.exportDisk(server.id, {
      format,
      compress: query.compress === 'true',
      ...(exportKey ? { encryptionKey: exportKey } : {}),
    });
    request.log.info({ server_id: server.id, format, encrypted, size_bytes: exported.sizeBytes }, 'disk export');
    await app.auditAccess(request, {
      action: auditActions.diskExported,
      resourceType: 'server',
      resourceId: server.id,
    });
    reply
      .code(200)
      .type('application/octet-stream')
      .header('content-disposition', `attachment; filename="${exportFileName(server.name, exported.format)}"`)
      .header('x-vmcloud-format', exported.format)
      .header('x-vmcloud-from-running-server', String(exported.fromRunningServer))
      .header('x-vmcloud-encrypted', String(exported.encrypted === true));
    if (exportKey) reply.header('x-vmcloud-export-key', exportKey).header('cache-control', 'no-store');
    if (exported.virtualSizeBytes !== null) reply.header('x-vmcloud-virtual-size-bytes', exported.virtualSizeBytes);
    if (exported.sizeBytes !== null) reply.header('content-length', exported.sizeBytes);
    return reply.send(exported.stream);
  });
}
