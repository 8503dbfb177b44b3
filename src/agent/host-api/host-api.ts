/**
 * The host API: a small HTTPS + WebSocket server each agent runs so that the control plane can reach what
 * only the host has: the serial console, boot logs, disk snapshots, disk export, image upload and vCPU
 * pinning. Agents otherwise only call the control plane; this is the one way in. It serves TLS 1.3 with
 * the host's own certificate and accepts only clients whose certificate chains to the CA the host joined
 * (checked at the handshake) and names the control plane (checked on every request, before anything runs:
 * other hosts' certificates chain to the same CA). Errors are problem documents with VmcError codes.
 *
 * Routes: WS /console/:serverId, GET /logs/:serverId, GET|POST /snapshots/:serverId,
 * POST /snapshots/:serverId/:name/restore, DELETE /snapshots/:serverId/:name, GET /export/:serverId,
 * GET /images, PUT /images/:slug, GET /images/:slug/disk, DELETE /images/:slug (custom images), GET /pinning/:serverId, GET /info,
 * POST /backups/:serverId, POST /restores/:serverId, GET /jobs/:id (backup-routes.ts: long jobs, polled).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import { invalid, isVmcError, VmcError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { isValidSlug, type ImageStore } from '../../images/index.ts';
import type { WsSocket } from '../../client/index.ts';
import { wsDataToBuffer } from '../../client/index.ts';
import { backupFeaturesOf, type HostFeatureDriver } from './feature-driver.ts';
import { registerHostBackupRoutes } from './backup-routes.ts';
import { createHostJobs } from './host-jobs.ts';
import { exportHeaders, imageToWire, pinningToWire, snapshotToWire, uploadHeaders } from './wire.ts';
import { sendProblem } from '../../core/problem.ts';
import { isControlPlaneCertificate, tlsServerOptions } from '../../pki/index.ts';

/** The host's TLS identity: its certificate and key, and the CA of the control plane it joined. */
export interface HostApiTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export interface HostApiOptions {
  /** The driver's host features, or a getter (the driver may be made after the API starts listening). */
  driver: HostFeatureDriver | null | (() => HostFeatureDriver | null);
  /** The host's image store; null on hosts without one (image routes then answer 409 `unsupported`). */
  imageStore: ImageStore | null;
  /** The host's certificate and key, and the CA the control plane's certificate must chain to. */
  tls: HostApiTls;
  log?: Logger;
  /** Where exports are written before they are streamed, then deleted (default: the OS temp dir). */
  scratchDir?: string;
  /** Largest upload accepted by Content-Length, bytes (default 50 GiB); the image store also counts while reading. */
  maxUploadBytes?: number;
}

export interface HostApi {
  /** Starts listening; resolves with the base URL (`https://127.0.0.1:40123`). Port 0 picks a free port. */
  listen(address: { host: string; port: number }): Promise<string>;
  /** A renewed certificate: connections made from now on get it (open ones keep theirs). */
  setTls(tls: HostApiTls): void;
  /** Stops listening and closes open console sessions. */
  close(): Promise<void>;
}

const serverIdPattern = /^[A-Za-z0-9_-]{1,100}$/;
const sha256Pattern = /^[0-9a-fA-F]{64}$/;
const GiB = 1024 ** 3;
/** Output is paused while this much is queued on a slow console client. */
const consoleHighWaterBytes = 1024 * 1024;

/** Why a client of the host API is refused, or null for the control plane (its certificate, verified by TLS). */
export function refusalOfClient(socket: TLSSocket): VmcError | null {
  const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null;
  if (!socket.authorized || !peer || Object.keys(peer).length === 0)
    return new VmcError('unauthenticated', "the host API needs the control plane's client certificate", {
      reason: 'client_certificate_required',
    });
  if (!isControlPlaneCertificate(peer))
    return new VmcError('forbidden', "the host API accepts only the control plane's certificate", {
      reason: 'not_control_plane',
    });
  return null;
}

function toVmcError(error: unknown): VmcError {
  if (isVmcError(error)) return error;
  const e = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (e?.validation) return invalid(e.message ?? 'the request is invalid');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 404) return new VmcError('not_found', e.message ?? 'not found');
    if (e.statusCode === 415)
      return invalid('send the body as application/octet-stream (uploads) or application/json', {
        reason: 'unsupported_media_type',
      });
    return invalid(e.message ?? 'the request is invalid', { reason: e.code?.toLowerCase() });
  }
  return new VmcError('internal', 'an internal error occurred on the host; it has been logged', { cause: error });
}

const unsupported = (what: string) =>
  new VmcError('conflict', `this host's driver does not offer ${what} (only the qemu driver does)`, {
    reason: 'unsupported',
  });

function checkServerId(serverId: string): string {
  if (!serverIdPattern.test(serverId))
    throw invalid(`server id ${JSON.stringify(serverId)} is invalid`, {
      fields: [{ field: 'serverId', message: 'invalid server id' }],
    });
  return serverId;
}

const truthy = (value: unknown) => value === '1' || value === 'true';

/** Pipes a console stream to a WebSocket: raw bytes both ways, binary frames, output paused for slow clients. */
export function pipeConsole(socket: WsSocket, stream: Duplex): void {
  let closed = false;
  const closeSocket = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    socket.close(code, reason);
  };
  stream.on('data', (chunk: Buffer) => {
    socket.send(chunk, { binary: true }, () => {
      if (stream.isPaused() && socket.bufferedAmount < consoleHighWaterBytes / 4) stream.resume();
    });
    if (socket.bufferedAmount > consoleHighWaterBytes) stream.pause();
  });
  stream.on('end', () => closeSocket(1000, 'the console closed (the server stopped)'));
  stream.on('close', () => closeSocket(1000, 'the console closed (the server stopped)'));
  stream.on('error', (error: Error) => closeSocket(1011, error.message.slice(0, 100)));
  socket.on('message', (data) => {
    if (!stream.destroyed && stream.writable) stream.write(wsDataToBuffer(data));
  });
  socket.on('close', () => {
    closed = true;
    stream.destroy();
  });
  socket.on('error', () => stream.destroy());
}

export function createHostApi(options: HostApiOptions): HostApi {
  const log = (options.log ?? silentLogger).child({ component: 'host-api' });
  const serverOptions = (tls: HostApiTls) =>
    tlsServerOptions({ certPem: tls.certPem, keyPem: tls.keyPem, caPem: tls.caPem, requestClientCertificate: true });
  const scratchDir = options.scratchDir ?? tmpdir();
  const maxUploadBytes = options.maxUploadBytes ?? 50 * GiB;
  const consoles = new WeakMap<FastifyRequest, Duplex>();
  const jobs = createHostJobs({
    onFailure: (job, error) =>
      log.error(
        { err: String((error as Error)?.stack ?? error), job: job.id, serverId: job.serverId },
        'host job failed',
      ),
  });
  const openConsoles = new Set<Duplex>();

  const features = (what: string): HostFeatureDriver => {
    const driver = typeof options.driver === 'function' ? options.driver() : options.driver;
    if (!driver) throw unsupported(what);
    return driver;
  };
  const images = (): ImageStore => {
    if (!options.imageStore) throw new VmcError('conflict', 'this host has no image store', { reason: 'unsupported' });
    return options.imageStore;
  };

  const app = Fastify({ https: serverOptions(options.tls), logger: false, bodyLimit: 64 * 1024 });

  // Uploads arrive as a stream: the parser hands the raw request on without reading it.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  app.setErrorHandler((error, request, reply) => {
    const vmcError = toVmcError(error);
    if (vmcError.code === 'internal')
      log.error({ err: String((error as Error)?.stack ?? error), url: request.url }, 'host API request failed');
    return sendProblem(reply, request, vmcError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new VmcError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  app.register(async (scope) => {
    // Inside the scope, after @fastify/websocket's own onRequest hook: a refused upgrade then gets its 401
    // and the socket is closed by the plugin (a hook before it would leave the upgrade socket open).
    scope.addHook('onRequest', async (request) => {
      const refusal = refusalOfClient(request.raw.socket as TLSSocket);
      if (refusal) {
        log.warn({ url: request.url.split('?')[0], ip: request.ip, reason: refusal.reason }, 'host API client refused');
        throw refusal;
      }
    });

    scope.get('/info', async () => {
      const driver = typeof options.driver === 'function' ? options.driver() : options.driver;
      return {
        features: {
          console: driver !== null,
          logs: driver !== null,
          snapshots: driver !== null,
          export: driver !== null,
          images: options.imageStore !== null,
          backups: backupFeaturesOf(driver) !== null,
        },
      };
    });

    scope.get<{ Params: { serverId: string }; Querystring: { read_only?: string; replay?: string } }>(
      '/console/:serverId',
      {
        websocket: true,
        // Runs before the upgrade: a refusal (server not running, unsupported) is an HTTP problem, not a dead socket.
        preHandler: async (request) => {
          if (!request.ws)
            throw invalid('this route is a WebSocket: connect with an Upgrade request', {
              reason: 'websocket_required',
            });
          const stream = await features('a console').attachConsole(checkServerId(request.params.serverId), {
            readOnly: truthy(request.query.read_only),
            replay: request.query.replay === undefined ? true : truthy(request.query.replay),
          });
          consoles.set(request, stream);
        },
      },
      (socket: WsSocket, request: FastifyRequest) => {
        const stream = consoles.get(request);
        if (!stream) {
          socket.close(1011, 'no console');
          return;
        }
        openConsoles.add(stream);
        stream.once('close', () => openConsoles.delete(stream));
        log.info({ serverId: (request.params as { serverId: string }).serverId }, 'console session opened');
        pipeConsole(socket, stream);
      },
    );

    scope.get<{ Params: { serverId: string }; Querystring: { previous_boot?: string } }>(
      '/logs/:serverId',
      async (request, reply) => {
        const text = await features('boot logs').consoleLog(checkServerId(request.params.serverId), {
          previousBoot: truthy(request.query.previous_boot),
        });
        return reply.type('text/plain; charset=utf-8').send(text);
      },
    );

    scope.get<{ Params: { serverId: string } }>('/snapshots/:serverId', async (request) => ({
      snapshots: (await features('snapshots').listSnapshots(checkServerId(request.params.serverId))).map(
        snapshotToWire,
      ),
    }));

    scope.post<{ Params: { serverId: string }; Body: { name?: unknown } | null }>(
      '/snapshots/:serverId',
      async (request, reply) => {
        const name = request.body?.name;
        if (typeof name !== 'string')
          throw invalid('the body must be {"name": "<snapshot name>"}', {
            fields: [{ field: 'name', message: 'is required' }],
          });
        const snapshot = await features('snapshots').createSnapshot(checkServerId(request.params.serverId), name);
        return reply.code(201).send({ snapshot: snapshotToWire(snapshot) });
      },
    );

    scope.post<{ Params: { serverId: string; name: string } }>(
      '/snapshots/:serverId/:name/restore',
      async (request, reply) => {
        await features('snapshots').restoreSnapshot(checkServerId(request.params.serverId), request.params.name);
        return reply.code(204).send();
      },
    );

    scope.delete<{ Params: { serverId: string; name: string } }>(
      '/snapshots/:serverId/:name',
      async (request, reply) => {
        await features('snapshots').deleteSnapshot(checkServerId(request.params.serverId), request.params.name);
        return reply.code(204).send();
      },
    );

    scope.get<{ Params: { serverId: string }; Querystring: { format?: string; compress?: string } }>(
      '/export/:serverId',
      async (request, reply) => {
        const serverId = checkServerId(request.params.serverId);
        const format = request.query.format ?? 'qcow2';
        if (format !== 'qcow2' && format !== 'raw')
          throw invalid('format must be qcow2 or raw', { fields: [{ field: 'format', message: 'qcow2 or raw' }] });
        const driver = features('disk export');
        const dir = await mkdtemp(join(scratchDir, 'vmc-export-'));
        const cleanup = () => void rm(dir, { recursive: true, force: true }).catch(() => {});
        let exported;
        try {
          const exportKey = request.headers[exportHeaders.exportKey];
          if (Array.isArray(exportKey)) throw invalid('one export key at most');
          exported = await driver.exportDisk(serverId, join(dir, `${serverId}.${format}`), {
            format,
            compress: truthy(request.query.compress),
            ...(exportKey ? { encryptionKey: exportKey } : {}),
          });
        } catch (error) {
          cleanup();
          throw error;
        }
        const stream = createReadStream(exported.path);
        // 'close' follows both the end and an abort by the client: the temporary file never outlives the request.
        stream.once('close', cleanup);
        log.info({ serverId, format, sizeBytes: exported.sizeBytes }, 'disk export streaming');
        return reply
          .type('application/octet-stream')
          .header('content-length', exported.sizeBytes)
          .header(exportHeaders.format, exported.format)
          .header(exportHeaders.virtualSizeBytes, exported.virtualSizeBytes)
          .header(exportHeaders.fromRunningServer, String(exported.fromRunningServer))
          .header(exportHeaders.encrypted, String(exported.encrypted === true))
          .send(stream);
      },
    );

    scope.get('/images', async () => ({ images: (await images().list()).map(imageToWire) }));

    scope.put<{ Params: { slug: string }; Querystring: { name?: string; sha256?: string } }>(
      '/images/:slug',
      async (request, reply) => {
        const store = images();
        const body = request.body as Readable | undefined;
        if (!body || typeof (body as Readable).pipe !== 'function') {
          throw invalid('send the image as the request body with Content-Type: application/octet-stream', {
            reason: 'unsupported_media_type',
          });
        }
        const declared = Number(request.headers['content-length'] ?? NaN);
        const name = request.query.name ?? headerText(request.headers[uploadHeaders.name]);
        const sha256 = request.query.sha256 ?? headerText(request.headers[uploadHeaders.sha256]);
        const bootLike = headerText(request.headers[uploadHeaders.bootLike]);
        try {
          if (Number.isFinite(declared) && declared > maxUploadBytes) {
            throw invalid(`the image is larger than the limit of ${maxUploadBytes} bytes`, {
              reason: 'image_too_large',
              details: { maxBytes: maxUploadBytes },
            });
          }
          if (sha256 !== undefined && !sha256Pattern.test(sha256))
            throw invalid('sha256 must be 64 hex digits', { fields: [{ field: 'sha256', message: '64 hex digits' }] });
          if (name !== undefined && (name.length === 0 || name.length > 200))
            throw invalid('name must have 1 to 200 characters', {
              fields: [{ field: 'name', message: '1 to 200 characters' }],
            });
          if (bootLike !== undefined && !isValidSlug(bootLike))
            throw invalid('the image to boot like is not a valid slug', { reason: 'boot_image_invalid' });
          const image = await store.importStream(request.params.slug, body, {
            name,
            expectedSha256: sha256,
            ...(bootLike !== undefined ? { bootLike } : {}),
          });
          return reply.code(201).send({ image: imageToWire(image) });
        } catch (error) {
          // The client may still be sending: close the connection after the answer rather than read it all.
          if (!body.readableEnded) reply.header('connection', 'close');
          throw error;
        }
      },
    );

    // Only custom images (`cimg_…`) are removed this way: the control plane asks once no live server uses one.
    scope.delete<{ Params: { slug: string } }>('/images/:slug', async (request, reply) => {
      const { slug } = request.params;
      if (!slug.startsWith('cimg_'))
        throw invalid('only custom images (cimg_…) are removed through the host API', {
          reason: 'not_a_custom_image',
        });
      if (!(await images().remove(slug)))
        throw new VmcError('not_found', `image ${slug} is not on this host`, {
          details: { resource: 'image', id: slug },
        });
      log.info({ slug }, 'custom image removed');
      return reply.code(204).send();
    });

    scope.get<{ Params: { slug: string } }>('/images/:slug/disk', async (request, reply) => {
      const image = await images().get(request.params.slug);
      if (!image)
        throw new VmcError('not_found', `image ${request.params.slug} is not on this host`, {
          details: { resource: 'image', id: request.params.slug },
        });
      return reply
        .type('application/octet-stream')
        .header('content-length', image.sizeBytes)
        .header(exportHeaders.format, image.format)
        .header(uploadHeaders.sha256, image.sha256)
        .header(uploadHeaders.name, encodeURIComponent(image.name))
        .send(createReadStream(image.diskPath));
    });

    registerHostBackupRoutes(scope, {
      backups: () => backupFeaturesOf(typeof options.driver === 'function' ? options.driver() : options.driver),
      jobs,
      log,
      checkServerId,
    });

    scope.get<{ Params: { serverId: string } }>('/pinning/:serverId', async (request) => {
      const pinning = await features('pinning').pinning(checkServerId(request.params.serverId));
      return { pinning: pinning ? pinningToWire(pinning) : null };
    });
  });

  let listening = false;
  return {
    async listen({ host, port }) {
      await app.listen({ host, port });
      listening = true;
      const address = app.server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      const baseUrl = `https://${shownHost}:${address.port}`;
      log.info({ url: baseUrl }, 'host API listening');
      return baseUrl;
    },
    setTls(tls) {
      app.server.setSecureContext(serverOptions(tls));
    },
    async close() {
      for (const stream of openConsoles) stream.destroy();
      if (listening || app.server.listening) await app.close();
    },
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
