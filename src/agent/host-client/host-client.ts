/**
 * The control plane's client of an agent's host API (src/agent/host-api): one method per endpoint, over
 * mutual TLS. The client presents the control plane's certificate and accepts the host only if the host's
 * certificate chains to the CA and names the host id it expects (a host that took over another host's
 * address is refused). Answers come back as the wire shapes (snake_case); refusals as VmcError with the
 * host's code and reason. A host that cannot be reached, whose certificate is not trusted, or that refuses
 * the control plane's certificate is `unavailable`: for the caller it is the host that is missing.
 */
import type { IncomingMessage } from 'node:http';
import { Duplex, Readable } from 'node:stream';
import { VmcError, type ErrorCode } from '../../core/errors.ts';
import { isCertificateTrustError, tlsClientOptions } from '../../pki/index.ts';
import type { BackupOutcomeWire, HostImageWire, HostJobWire, PinningWire, SnapshotWire } from '../host-api/wire.ts';
import {
  backupOutcomeFromWire,
  backupRequestToWire,
  exportHeaders,
  restoreRequestToWire,
  uploadHeaders,
} from '../host-api/wire.ts';
import type { BackupOutcome, HostBackupRequest, HostRestoreRequest } from '../../backups/index.ts';
import { headerOf, httpsRequest, readText } from '../mtls/https-request.ts';
import { WebSocket, shortReason, wsDataToBuffer, wsOpen, type WsSocket } from '../../client/index.ts';

export interface HostClientOptions {
  /** The host API's base URL, as registered (`hosts.address`, https://…). */
  baseUrl: string;
  /** The host the server's certificate must name (SAN URI urn:vmcloud:host:<id>). */
  hostId: string;
  /** The CA host certificates chain to, and the control plane's certificate and key. */
  tls: { caPem: string; certPem: string; keyPem: string };
  /** Timeout of ordinary requests and of the WebSocket handshake (default 30 s). */
  timeoutMs?: number;
  /** Time allowed for the host to prepare an export before it starts sending (default 30 min). */
  exportTimeoutMs?: number;
  /** Interval between polls of a host job (backup, restore; default 2 s). */
  jobPollMs?: number;
  /** A job still running after this long is given up (default 6 h, the backup worker's own limit). */
  jobDeadlineMs?: number;
  /** Polls may fail (host restarting, network) for this long in a row before the job is given up (default 5 min). */
  jobUnreachableMs?: number;
}

export interface ExportStream {
  stream: Readable;
  /** From Content-Length; null when the host did not say. */
  sizeBytes: number | null;
  format: 'qcow2' | 'raw';
  virtualSizeBytes: number | null;
  fromRunningServer: boolean;
  /** Whether the host kept the export encrypted (under the key the request sent). */
  encrypted?: boolean;
}

/**
 * A console session as a Duplex: guest output to read, keystrokes to write. Ending or destroying it closes
 * the WebSocket; when the host closes it (the server stopped), the readable side ends and `closeCode` /
 * `closeReason` say why.
 */
export interface ConsoleStream extends Duplex {
  closeCode: number | null;
  closeReason: string;
}

export interface ImageDownload {
  stream: Readable;
  sizeBytes: number | null;
  format: string | null;
  sha256: string | null;
  name: string | null;
}

export interface HostClient {
  readonly baseUrl: string;
  info(): Promise<{ features: Record<string, boolean> }>;
  /** The server's serial console over an open WebSocket (raw bytes both ways, binary frames). */
  openConsole(serverId: string, options?: { readOnly?: boolean; replay?: boolean }): Promise<ConsoleStream>;
  logs(serverId: string, options?: { previousBoot?: boolean }): Promise<string>;
  listSnapshots(serverId: string): Promise<SnapshotWire[]>;
  createSnapshot(serverId: string, name: string): Promise<SnapshotWire>;
  restoreSnapshot(serverId: string, name: string): Promise<void>;
  deleteSnapshot(serverId: string, name: string): Promise<void>;
  /** Exports the disk on the host and streams it; the host deletes its temporary file afterwards. */
  exportDisk(
    serverId: string,
    options?: {
      format?: 'qcow2' | 'raw';
      compress?: boolean;
      signal?: AbortSignal;
      /** Keep the export encrypted under this passphrase (sent in a header over the mutual-TLS link). */
      encryptionKey?: string;
    },
  ): Promise<ExportStream>;
  listImages(): Promise<HostImageWire[]>;
  uploadImage(
    slug: string,
    source: Readable | AsyncIterable<Uint8Array>,
    options?: { name?: string; sha256?: string; signal?: AbortSignal; bootLike?: string },
  ): Promise<HostImageWire>;
  downloadImage(slug: string, options?: { signal?: AbortSignal }): Promise<ImageDownload>;
  /** Removes a custom image (`cimg_…`) from the host's image store (not_found when it holds none). */
  deleteImage(slug: string): Promise<void>;
  pinning(serverId: string): Promise<PinningWire | null>;
  /**
   * Backs the server's disk up on the host (a job: started, then polled until it ends; a retry with the
   * same backup id joins the job instead of starting another).
   */
  backupDisk(serverId: string, request: HostBackupRequest, options?: { signal?: AbortSignal }): Promise<BackupOutcome>;
  /** Replaces the server's disk with a snapshot's (a job, like backupDisk). */
  restoreDisk(
    serverId: string,
    request: HostRestoreRequest,
    options?: { signal?: AbortSignal },
  ): Promise<{ durationMs: number }>;
  /** A job of the host (null when the host does not know it: finished long ago, or the agent restarted). */
  job(id: string): Promise<HostJobWire | null>;
}

const errorCodes = new Set<ErrorCode>([
  'invalid',
  'not_found',
  'conflict',
  'forbidden',
  'unauthenticated',
  'unavailable',
  'rate_limited',
  'precondition_failed',
  'internal',
]);
const problemKeys = new Set(['type', 'title', 'status', 'detail', 'code', 'reason', 'errors', 'instance']);

/** The host's problem document as a VmcError; a refused control-plane certificate becomes `unavailable`. */
export function hostError(status: number, bodyText: string, baseUrl: string): VmcError {
  let problem: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(bodyText) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) problem = parsed as Record<string, unknown>;
  } catch {
    problem = null;
  }
  if (status === 401 || status === 403) {
    return new VmcError(
      'unavailable',
      `the host at ${baseUrl} refused the control plane's certificate (was it joined to another control plane?)`,
      { reason: 'host_refused_control_plane' },
    );
  }
  const code =
    problem && errorCodes.has(problem.code as ErrorCode)
      ? (problem.code as ErrorCode)
      : status >= 500
        ? 'unavailable'
        : 'invalid';
  const detail = problem && typeof problem.detail === 'string' ? problem.detail : `the host answered HTTP ${status}`;
  const details: Record<string, unknown> = {};
  if (problem) for (const [key, value] of Object.entries(problem)) if (!problemKeys.has(key)) details[key] = value;
  const fields =
    problem && Array.isArray(problem.errors) ? (problem.errors as Array<{ field: string; message: string }>) : [];
  return new VmcError(code, detail, {
    reason: problem && typeof problem.reason === 'string' ? problem.reason : undefined,
    fields,
    details,
  });
}

function unreachable(baseUrl: string, error: unknown): VmcError {
  if (isCertificateTrustError(error)) {
    return new VmcError(
      'unavailable',
      `the host at ${baseUrl} is not the host expected there: ${(error as Error).message}`,
      { reason: 'host_untrusted', cause: error },
    );
  }
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
  return new VmcError(
    'unavailable',
    `the host at ${baseUrl} cannot be reached (${timedOut ? 'timed out' : (e?.code ?? e?.cause?.code ?? e?.message ?? 'error')})`,
    { reason: 'host_unreachable', cause: error },
  );
}

const seg = (value: string) => encodeURIComponent(value);

/**
 * Wraps an open WebSocket in a Duplex. Made synchronously in the 'open' handler, so no message that follows
 * the handshake is lost; the socket is paused while the reader does not keep up.
 */
export function consoleStreamOf(socket: WsSocket): ConsoleStream {
  let paused = false;
  const stream = new Duplex({
    allowHalfOpen: false,
    read() {
      if (paused) {
        paused = false;
        socket.resume();
      }
    },
    write(chunk: Buffer, _encoding, callback) {
      if (socket.readyState !== wsOpen) callback();
      else socket.send(chunk, { binary: true }, (error) => callback(error ?? null));
    },
    final(callback) {
      if (socket.readyState === wsOpen) socket.close(1000, 'detached');
      callback();
    },
    destroy(error, callback) {
      if (socket.readyState === wsOpen)
        socket.close(error ? 1011 : 1000, error ? shortReason(error.message) : 'detached');
      callback(error);
    },
  }) as ConsoleStream;
  stream.closeCode = null;
  stream.closeReason = '';
  socket.on('message', (data) => {
    if (!stream.push(wsDataToBuffer(data)) && !paused) {
      paused = true;
      socket.pause();
    }
  });
  socket.on('close', (code, reason) => {
    stream.closeCode = code;
    stream.closeReason = reason.toString();
    stream.push(null);
  });
  socket.on('error', (error) => stream.destroy(error));
  return stream;
}

const numberHeader = (value: string | null) => (value !== null && /^\d+$/.test(value) ? Number(value) : null);

export function createHostClient(options: HostClientOptions): HostClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const exportTimeoutMs = options.exportTimeoutMs ?? 30 * 60_000;
  const tls = tlsClientOptions({ ...options.tls, expectedHostId: options.hostId });
  const jobPollMs = options.jobPollMs ?? 2000;
  const jobDeadlineMs = options.jobDeadlineMs ?? 6 * 3600_000;
  const jobUnreachableMs = options.jobUnreachableMs ?? 5 * 60_000;

  /** One request. `headersTimeoutMs` bounds the wait for the response headers (a body may stream for longer). */
  async function call(
    method: string,
    path: string,
    init: {
      body?: unknown;
      raw?: Readable;
      headers?: Record<string, string>;
      headersTimeoutMs?: number;
      signal?: AbortSignal;
    } = {},
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | Readable | undefined;
    if (init.raw) {
      headers['content-type'] = 'application/octet-stream';
      body = init.raw;
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    let response: IncomingMessage;
    try {
      response = await httpsRequest({
        method,
        url: baseUrl + path,
        headers,
        body,
        tls,
        headersTimeoutMs: init.headersTimeoutMs ?? timeoutMs,
        signal: init.signal,
      });
    } catch (error) {
      throw unreachable(baseUrl, error);
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw hostError(status, await readText(response).catch(() => ''), baseUrl);
    return response;
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await call(method, path, { body });
    let text: string;
    try {
      text = await readText(response);
    } catch (error) {
      throw unreachable(baseUrl, error);
    }
    if (response.statusCode === 204 || text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw unreachable(baseUrl, error);
    }
  }

  const job = async (id: string): Promise<HostJobWire | null> => {
    try {
      return (await json<{ job: HostJobWire }>('GET', `/jobs/${seg(id)}`)).job;
    } catch (error) {
      if (error instanceof VmcError && error.code === 'not_found') return null;
      throw error;
    }
  };

  /** Starts a job (POST → 202) and polls it to its end: its result, or its error as a VmcError. */
  async function runJob(path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
    const started = (await json<{ job: HostJobWire }>('POST', path, body)).job;
    const deadline = Date.now() + jobDeadlineMs;
    let current: HostJobWire = started;
    let failingSince: number | null = null;
    while (current.status === 'running') {
      if (signal?.aborted) throw new VmcError('unavailable', `stopped waiting for job ${started.id} on ${baseUrl}`);
      if (Date.now() > deadline)
        throw new VmcError('unavailable', `job ${started.id} on ${baseUrl} still runs after ${jobDeadlineMs} ms`, {
          reason: 'host_job_timeout',
        });
      await new Promise((resolve) => setTimeout(resolve, jobPollMs));
      let polled: HostJobWire | null;
      try {
        polled = await job(started.id);
        failingSince = null;
      } catch (error) {
        if (!(error instanceof VmcError) || error.code !== 'unavailable') throw error;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > jobUnreachableMs) throw error;
        continue;
      }
      if (!polled)
        throw new VmcError('unavailable', `the host at ${baseUrl} lost job ${started.id} (its agent restarted?)`, {
          reason: 'host_job_lost',
        });
      current = polled;
    }
    if (current.status === 'failed') {
      const error = current.error ?? { code: 'internal', detail: 'the job failed', reason: null };
      throw new VmcError(
        errorCodes.has(error.code as ErrorCode) ? (error.code as ErrorCode) : 'internal',
        error.detail,
        {
          reason: error.reason ?? undefined,
        },
      );
    }
    return current.result;
  }

  return {
    baseUrl,
    info: () => json('GET', '/info'),
    job,
    backupDisk: async (serverId, request, jobOptions = {}) =>
      backupOutcomeFromWire(
        (await runJob(
          `/backups/${seg(serverId)}`,
          backupRequestToWire(request),
          jobOptions.signal,
        )) as BackupOutcomeWire,
      ),
    restoreDisk: async (serverId, request, jobOptions = {}) => {
      const result = (await runJob(`/restores/${seg(serverId)}`, restoreRequestToWire(request), jobOptions.signal)) as {
        duration_ms: number;
      };
      return { durationMs: result.duration_ms };
    },

    openConsole(serverId, consoleOptions = {}) {
      const query = new URLSearchParams();
      if (consoleOptions.readOnly) query.set('read_only', '1');
      if (consoleOptions.replay === false) query.set('replay', '0');
      const url = `${baseUrl.replace(/^http/, 'ws')}/console/${seg(serverId)}${query.size > 0 ? `?${query}` : ''}`;
      return new Promise<ConsoleStream>((resolve, reject) => {
        // `ws` hands the TLS options (CA, certificate, key, checkServerIdentity) on to tls.connect.
        const socketOptions = {
          ...tls,
          handshakeTimeout: timeoutMs,
          perMessageDeflate: false,
        };
        const socket = new WebSocket(url, socketOptions);
        let settled = false;
        const fail = (error: VmcError) => {
          if (settled) return;
          settled = true;
          reject(error);
        };
        socket.once('open', () => {
          settled = true;
          resolve(consoleStreamOf(socket));
        });
        socket.once('unexpected-response', (request: unknown, response: IncomingMessage) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            fail(hostError(response.statusCode ?? 502, Buffer.concat(chunks).toString('utf8'), baseUrl));
            (request as { destroy?: () => void }).destroy?.();
          });
          response.on('error', (error) => fail(unreachable(baseUrl, error)));
        });
        socket.once('error', (error) => fail(unreachable(baseUrl, error)));
        socket.once('close', (code, reason) =>
          fail(
            new VmcError('unavailable', `the host closed the console (${code} ${shortReason(reason.toString())})`, {
              reason: 'host_unreachable',
            }),
          ),
        );
      });
    },

    async logs(serverId, logOptions = {}) {
      const response = await call('GET', `/logs/${seg(serverId)}${logOptions.previousBoot ? '?previous_boot=1' : ''}`);
      return readText(response).catch((error: unknown) => {
        throw unreachable(baseUrl, error);
      });
    },
    listSnapshots: async (serverId) =>
      (await json<{ snapshots: SnapshotWire[] }>('GET', `/snapshots/${seg(serverId)}`)).snapshots,
    createSnapshot: async (serverId, name) =>
      (await json<{ snapshot: SnapshotWire }>('POST', `/snapshots/${seg(serverId)}`, { name })).snapshot,
    restoreSnapshot: async (serverId, name) => {
      await json('POST', `/snapshots/${seg(serverId)}/${seg(name)}/restore`);
    },
    deleteSnapshot: async (serverId, name) => {
      await json('DELETE', `/snapshots/${seg(serverId)}/${seg(name)}`);
    },

    async exportDisk(serverId, exportOptions = {}) {
      const query = new URLSearchParams({ format: exportOptions.format ?? 'qcow2' });
      if (exportOptions.compress) query.set('compress', '1');
      const response = await call('GET', `/export/${seg(serverId)}?${query}`, {
        headersTimeoutMs: exportTimeoutMs,
        signal: exportOptions.signal,
        ...(exportOptions.encryptionKey ? { headers: { [exportHeaders.exportKey]: exportOptions.encryptionKey } } : {}),
      });
      return {
        stream: response,
        sizeBytes: numberHeader(headerOf(response, 'content-length')),
        format: headerOf(response, exportHeaders.format) === 'raw' ? 'raw' : 'qcow2',
        virtualSizeBytes: numberHeader(headerOf(response, exportHeaders.virtualSizeBytes)),
        fromRunningServer: headerOf(response, exportHeaders.fromRunningServer) === 'true',
        encrypted: headerOf(response, exportHeaders.encrypted) === 'true',
      };
    },

    listImages: async () => (await json<{ images: HostImageWire[] }>('GET', '/images')).images,

    async uploadImage(slug, source, uploadOptions = {}) {
      const headers: Record<string, string> = {};
      if (uploadOptions.name !== undefined) headers[uploadHeaders.name] = encodeURIComponent(uploadOptions.name);
      if (uploadOptions.sha256 !== undefined) headers[uploadHeaders.sha256] = uploadOptions.sha256;
      if (uploadOptions.bootLike !== undefined) headers[uploadHeaders.bootLike] = uploadOptions.bootLike;
      const raw = source instanceof Readable ? source : Readable.from(source);
      // No timeout on an upload's body; the signal aborts it.
      const response = await call('PUT', `/images/${seg(slug)}`, {
        raw,
        headers,
        headersTimeoutMs: 24 * 3600_000,
        signal: uploadOptions.signal,
      });
      return (JSON.parse(await readText(response)) as { image: HostImageWire }).image;
    },

    async downloadImage(slug, downloadOptions = {}) {
      const response = await call('GET', `/images/${seg(slug)}/disk`, { signal: downloadOptions.signal });
      const name = headerOf(response, uploadHeaders.name);
      return {
        stream: response,
        sizeBytes: numberHeader(headerOf(response, 'content-length')),
        format: headerOf(response, exportHeaders.format),
        sha256: headerOf(response, uploadHeaders.sha256),
        name: name === null ? null : decodeURIComponent(name),
      };
    },

    deleteImage: async (slug) => {
      await json('DELETE', `/images/${seg(slug)}`);
    },

    pinning: async (serverId) =>
      (await json<{ pinning: PinningWire | null }>('GET', `/pinning/${seg(serverId)}`)).pinning,
  };
}
