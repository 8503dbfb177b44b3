/**
 * The agent listener: the control plane's second HTTPS endpoint, for agents only (`/v1/agent/…`), apart
 * from the public API. TLS 1.3 only, served with this replica's control-plane certificate (SAN URI
 * urn:vmcloud:control-plane, swapped in on every renewal). It asks every client for a certificate but
 * accepts a connection without one (`GET /v1/agent/ca` and the join come before the agent has one);
 * every other route checks the certificate before anything else runs (src/api/agent/routes.ts).
 */
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger as PinoLogger } from 'pino';
import { newId, sendProblem, toVmcError, VmcError, type Clock } from '../../core/index.ts';
import type { HostEnrollment, PeerIdentity, RequestMeta, TlsMaterial } from '../../agent/enrollment/index.ts';
import type { HostSync } from '../../compute/index.ts';
import type { VolumeSync } from '../../volumes/index.ts';
import type { HostNetworkSync } from '../../networks/index.ts';
import type { InventoryService } from '../../inventory/index.ts';
import type { FailedAuthRecorder } from '../../audit/index.ts';
import { tlsServerOptions } from '../../pki/index.ts';
import {
  Problem,
  type HostTrafficAnswer,
  type HostTrafficBody,
  type TelemetryAnswer,
  type TelemetryBody,
} from '../../contract/index.ts';
import { containsNul } from '../rest/server.ts';
import { registerAgentListenerRoutes } from './routes.ts';

export interface AgentListenerOptions {
  clock: Clock;
  log: PinoLogger;
  enrollment: HostEnrollment;
  inventory: Pick<InventoryService, 'heartbeat'>;
  hostSync: Pick<HostSync, 'desiredFor' | 'applyReport'>;
  /** Volumes: desired out with the instances, observed in with reports that carry `volumes`. */
  volumeSync?: Pick<VolumeSync, 'desiredFor' | 'applyReport'>;
  /** Networks: the host's segments and public routes out with the instances, its data plane in with reports. */
  networkSync?: Pick<HostNetworkSync, 'desiredFor' | 'applyReport'>;
  /** Telemetry: peer probes and server usage in, the peers to probe out (absent: the route answers 404). */
  telemetry?: { receive(hostId: string, body: TelemetryBody): Promise<TelemetryAnswer> };
  /** Qemu hosts' traffic samples, flows and DDoS meter observations (src/traffic/host-report.ts). */
  hostTraffic?: { receive(hostId: string, body: HostTrafficBody): Promise<HostTrafficAnswer> };
  /** The CA and this replica's current certificate (read again on each renewal). */
  tls: () => TlsMaterial;
  /** Subscribes to renewals of this replica's certificate. */
  onCertificateRenewed: (listener: () => void) => void;
  /** Refused join tokens are audited, a bounded number per client address. */
  failedAuth: FailedAuthRecorder;
  /** Failed joins per client address per minute before 429 (default 60; 0 disables). */
  failedJoinsPerMinute?: number;
}

export interface AgentListener {
  /** Starts listening; resolves with the base URL (`https://127.0.0.1:8443`). Port 0 picks a free port. */
  listen(address: { host: string; port: number }): Promise<string>;
  /** The base URL once listening, else null. */
  readonly url: string | null;
  close(): Promise<void>;
}

/** What TLS established about the client of a request. */
export function peerOf(request: FastifyRequest): PeerIdentity {
  const socket = request.raw.socket as TLSSocket;
  const error = socket.authorizationError as unknown;
  return {
    authorized: socket.authorized === true,
    authorizationError: error ? String((error as { code?: string }).code ?? error) : null,
    certificate: typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null,
  };
}

export function requestMetaOf(request: FastifyRequest): RequestMeta {
  return { requestId: request.id, sourceIp: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

export function createAgentListener(options: AgentListenerOptions): AgentListener {
  const contextOptions = () => {
    const material = options.tls();
    return tlsServerOptions({
      certPem: material.certPem,
      keyPem: material.keyPem,
      caPem: material.caPem,
      requestClientCertificate: true,
      clientCertificateOptional: true,
    });
  };
  const app = Fastify({
    https: contextOptions(),
    loggerInstance: options.log.child({ component: 'agent-listener' }),
    // Heartbeats and reports every few seconds per host: only problems are logged.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newId('request', options.clock.nowMs()),
    requestIdHeader: false,
    bodyLimit: 4 * 1024 * 1024,
    ajv: {
      // verbose: a failed pattern names its schema, whose description the problem says instead of the regex.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: true, verbose: true },
    },
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, toVmcError(error)),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // The one Problem schema the contract's operations refer to for their error answers (as the public API).
  app.addSchema({ $id: 'Problem', title: 'Problem', ...Problem });

  options.onCertificateRenewed(() => {
    // Connections made from now on get the new certificate; open ones keep theirs until they close.
    app.server.setSecureContext(contextOptions());
  });

  // As on the public API: NUL cannot be stored in a PostgreSQL text column and has no business in a field.
  app.addHook('onRequest', async (request) => {
    if (/%00/.test(request.url) || request.url.includes('\0'))
      throw new VmcError('invalid', 'the URL contains a NUL character', { reason: 'nul_in_url' });
  });
  app.addHook('preValidation', async (request) => {
    if (containsNul(request.body))
      throw new VmcError('invalid', 'the request contains a NUL character', { reason: 'nul_in_request' });
  });

  app.setErrorHandler((error, request, reply) => {
    const vmcError = toVmcError(error);
    if (vmcError.code === 'internal') request.log.error({ err: error }, 'internal error');
    return sendProblem(reply, request, vmcError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new VmcError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
  registerAgentListenerRoutes(app, options);

  let url: string | null = null;
  return {
    async listen({ host, port }) {
      await app.listen({ host, port });
      const address = app.server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `https://${shownHost}:${address.port}`;
      return url;
    },
    get url() {
      return url;
    },
    async close() {
      await app.close();
      url = null;
    },
  };
}
