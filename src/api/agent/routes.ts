/**
 * The routes of the agent listener, one per operation of src/contract/agent.ts. `GET /v1/agent/ca` and
 * `POST /v1/agent/join` need no client certificate (the join needs a join token); every other route
 * authenticates the client certificate and checks that it names the host of the path in an onRequest
 * hook, before the body is even read: a refused request changes nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VmcError } from '../../core/index.ts';
import type { HostCaller } from '../../agent/enrollment/index.ts';
import type { RegisterHostInput } from '../../inventory/index.ts';
import {
  getAgentCa,
  getDesired,
  heartbeat,
  joinHost,
  registerHost,
  renewHostCertificate,
  report,
  sendTelemetry,
  reportHostTraffic,
  type AnyOperation,
  type BodyOf,
  type ParamsOf,
  type RegisterHostBody,
  type ResponseOf,
} from '../../contract/index.ts';
import { createRateLimiter } from '../rest/rate-limit.ts';
import { routeSchema } from '../rest/route.ts';
import { peerOf, requestMetaOf, type AgentListenerOptions } from './agent-listener.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** On the agent listener: the host whose certificate the request carries (routes that need one). */
    hostCaller: HostCaller | null;
  }
}

interface AgentRouteContext<Op extends AnyOperation> {
  params: ParamsOf<Op>;
  body: BodyOf<Op>;
  request: FastifyRequest;
  reply: FastifyReply;
}

interface CertifiedRouteContext<Op extends AnyOperation> extends AgentRouteContext<Op> {
  caller: HostCaller;
}

function registrationOf(body: RegisterHostBody): RegisterHostInput {
  return {
    name: body.name,
    region: body.region,
    driver: body.driver,
    cpuModel: body.cpu_model,
    topology: body.topology,
    agentVersion: body.agent_version,
    address: body.address,
    images: body.images ?? null,
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function registerAgentListenerRoutes(app: FastifyInstance<any, any, any, any, any>, deps: AgentListenerOptions) {
  const { enrollment } = deps;
  app.decorateRequest('hostCaller', null);

  function add<Op extends AnyOperation>(
    operation: Op,
    certificate: boolean,
    handler: (context: CertifiedRouteContext<Op>) => Promise<ResponseOf<Op>>,
  ): void {
    app.route({
      method: operation.method,
      url: operation.path,
      schema: routeSchema(operation),
      // An empty body is an empty object (a heartbeat of an agent that has nothing to add).
      preValidation: async (request: FastifyRequest) => {
        if (operation.body && request.body == null) request.body = {};
      },
      onRequest: certificate
        ? async (request: FastifyRequest) => {
            const caller = await enrollment.authenticate(peerOf(request));
            enrollment.authorize(caller, (request.params as { id: string }).id);
            request.hostCaller = caller;
          }
        : undefined,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const result = await handler({
          params: request.params as ParamsOf<Op>,
          body: request.body as BodyOf<Op>,
          caller: request.hostCaller!,
          request,
          reply,
        });
        reply.code(operation.status);
        return operation.status === 204 ? reply.send() : reply.send(result);
      },
    });
  }

  add(getAgentCa, false, async () => {
    const { caPem, caSha256 } = enrollment.ca();
    return { ca_pem: caPem, ca_sha256: caSha256 };
  });

  // Join tokens can be guessed only slowly: each client address gets a bounded number of failures.
  const failures = createRateLimiter({
    limitPerWindow: deps.failedJoinsPerMinute ?? 60,
    windowMs: 60_000,
    nowMs: deps.clock.nowMs,
  });
  add(joinHost, false, async ({ body, request, reply }) => {
    const key = `ip:${request.ip}`;
    const blocked = failures.enabled ? failures.exhausted(key) : null;
    if (blocked) {
      reply.header('Retry-After', blocked.retryAfterS);
      throw new VmcError(
        'rate_limited',
        `too many failed joins from ${request.ip}; retry after ${blocked.retryAfterS} s`,
        {
          reason: 'auth_rate_limited',
        },
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    try {
      if (!match) throw new VmcError('unauthenticated', 'joining needs "Authorization: Bearer <join token>"');
      const { csr, ...registration } = body;
      const joined = await enrollment.join(match[1], registrationOf(registration), csr, requestMetaOf(request));
      return {
        host_id: joined.hostId,
        created: joined.created,
        ipv4_pool: joined.ipv4Pool,
        certificate_pem: joined.certificatePem,
        ca_pem: joined.caPem,
      };
    } catch (error) {
      if (error instanceof VmcError && error.code === 'unauthenticated') {
        if (failures.enabled) failures.take(key);
        deps.failedAuth
          .record({
            sourceIp: request.ip,
            reason: `join refused: ${error.message}`,
            requestId: request.id,
            userAgent: request.headers['user-agent'] ?? null,
            tokenPrefix: match ? (/^(vmc_\w{0,8})/.exec(match[1])?.[1] ?? null) : null,
          })
          .catch((failure: unknown) => request.log.error({ err: failure }, 'a refused join could not be audited'));
      }
      throw error;
    }
  });

  add(registerHost, true, async ({ caller, params, body }) => {
    const registered = await enrollment.register(caller, params.id, registrationOf(body));
    return { host_id: registered.hostId, created: registered.created, ipv4_pool: registered.ipv4Pool };
  });

  add(renewHostCertificate, true, async ({ caller, params, body, request }) => {
    const renewed = await enrollment.renew(caller, params.id, body.csr, requestMetaOf(request));
    return { certificate_pem: renewed.certificatePem, ca_pem: renewed.caPem };
  });

  add(heartbeat, true, async ({ params, body }) => {
    await deps.inventory.heartbeat(params.id, { images: body?.images });
  });

  add(getDesired, true, async ({ params }) => ({
    instances: await deps.hostSync.desiredFor(params.id),
    ...(deps.volumeSync && { volumes: await deps.volumeSync.desiredFor(params.id) }),
    ...(deps.networkSync && { network: await deps.networkSync.desiredFor(params.id) }),
  }));

  add(report, true, async ({ params, body }) => {
    // A report is proof of life too: a host that reports is up.
    await deps.inventory.heartbeat(params.id);
    await deps.hostSync.applyReport(params.id, body.observed, { full: body.full });
    if (body.volumes && deps.volumeSync) await deps.volumeSync.applyReport(params.id, body.volumes);
    if (body.network && deps.networkSync) await deps.networkSync.applyReport(params.id, body.network);
  });

  if (deps.telemetry) {
    const telemetry = deps.telemetry;
    add(sendTelemetry, true, async ({ params, body }) => telemetry.receive(params.id, body));
  }

  if (deps.hostTraffic) {
    const hostTraffic = deps.hostTraffic;
    add(reportHostTraffic, true, async ({ params, body }) => hostTraffic.receive(params.id, body));
  }
}
