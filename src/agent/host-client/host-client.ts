/**
 * The control plane's client of an agent's host API (src/agent/host-api): one method per endpoint.
 * Answers come back as the wire shapes (snake_case); refusals as VmcError with the host's code and reason.
 * A host that cannot be reached, or that refuses our agent key (it restarted and has not re-registered
 * yet), is `unavailable`: for the caller it is the host that is missing, not their credentials.
 */
import type { IncomingMessage } from 'node:http';
import { Duplex, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { VmcError, type ErrorCode } from '../../core/errors.ts';
import type { HostImageWire, PinningWire, SnapshotWire } from '../host-api/wire.ts';
import { exportHeaders, uploadHeaders } from '../host-api/wire.ts';
import { WebSocket, shortReason, wsDataToBuffer, wsOpen, type WsSocket } from './ws.ts';

export interface HostClientOptions {
  /** The host API's base URL, as registered (`hosts.address`). */
  baseUrl: string;
  /** The host's current agent key (`hosts.agent_key`). */
  agentKey: string;
  /** Timeout of ordinary requests and of the WebSocket handshake (default 30 s). */
  timeoutMs?: number;
  /** Time allowed for the host to prepare an export before it starts sending (default 30 min). */
  exportTimeoutMs?: number;
}

export interface ExportStream {
  stream: Readable;
  /** From Content-Length; null when the host did not say. */
  sizeBytes: number | null;
  format: 'qcow2' | 'raw';
  virtualSizeBytes: number | null;
  fromRunningServer: boolean;
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
  exportDisk(serverId: string, options?: { format?: 'qcow2' | 'raw'; compress?: boolean; signal?: AbortSignal }): Promise<ExportStream>;
  listImages(): Promise<HostImageWire[]>;
  uploadImage(slug: string, source: Readable | AsyncIterable<Uint8Array>, options?: { name?: string; sha256?: string; signal?: AbortSignal }): Promise<HostImageWire>;
  downloadImage(slug: string, options?: { signal?: AbortSignal }): Promise<ImageDownload>;
  pinning(serverId: string): Promise<PinningWire | null>;
}

const errorCodes = new Set<ErrorCode>(['invalid', 'not_found', 'conflict', 'forbidden', 'unauthenticated', 'unavailable', 'rate_limited', 'precondition_failed', 'internal']);
const problemKeys = new Set(['type', 'title', 'status', 'detail', 'code', 'reason', 'errors', 'instance']);

/** The host's problem document as a VmcError; a refused agent key becomes `unavailable`. */
export function hostError(status: number, bodyText: string, baseUrl: string): VmcError {
  let problem: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(bodyText) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) problem = parsed as Record<string, unknown>;
  } catch {
    problem = null;
  }
  if (status === 401 || status === 403) {
    return new VmcError('unavailable', `the host at ${baseUrl} refused the control plane's agent key (the agent restarted and has not registered again yet?)`, {
      reason: 'host_key_rejected',
    });
  }
  const code = problem && errorCodes.has(problem.code as ErrorCode) ? (problem.code as ErrorCode) : status >= 500 ? 'unavailable' : 'invalid';
  const detail = problem && typeof problem.detail === 'string' ? problem.detail : `the host answered HTTP ${status}`;
  const details: Record<string, unknown> = {};
  if (problem) for (const [key, value] of Object.entries(problem)) if (!problemKeys.has(key)) details[key] = value;
  const fields = problem && Array.isArray(problem.errors) ? (problem.errors as Array<{ field: string; message: string }>) : [];
  return new VmcError(code, detail, { reason: problem && typeof problem.reason === 'string' ? problem.reason : undefined, fields, details });
}

function unreachable(baseUrl: string, error: unknown): VmcError {
  const cause = (error as { cause?: { code?: string } })?.cause?.code;
  const timedOut = (error as { name?: string })?.name === 'TimeoutError' || (error as { name?: string })?.name === 'AbortError';
  return new VmcError('unavailable', `the host at ${baseUrl} cannot be reached (${timedOut ? 'timed out' : (cause ?? (error as Error)?.message ?? 'error')})`, {
    reason: 'host_unreachable',
    cause: error,
  });
}

const seg = (value: string) => encodeURIComponent(value);

function toNodeReadable(body: ReadableStream<Uint8Array> | null): Readable {
  return body ? Readable.fromWeb(body as unknown as WebReadableStream<Uint8Array>) : Readable.from([]);
}

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
      if (socket.readyState === wsOpen) socket.close(error ? 1011 : 1000, error ? shortReason(error.message) : 'detached');
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
  const authorization = `Bearer ${options.agentKey}`;

  /** One request. `headersTimeoutMs` bounds the wait for the response headers (a body may stream for longer). */
  async function call(method: string, path: string, init: { body?: unknown; raw?: Readable; headers?: Record<string, string>; headersTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), init.headersTimeoutMs ?? timeoutMs);
    const onAbort = () => controller.abort(init.signal?.reason);
    init.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { authorization, ...init.headers };
    let body: string | ReadableStream | undefined;
    if (init.raw) {
      headers['content-type'] = 'application/octet-stream';
      body = Readable.toWeb(init.raw) as unknown as ReadableStream;
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    let response: Response;
    try {
      response = await fetch(baseUrl + path, { method, headers, body, signal: controller.signal, ...(init.raw ? { duplex: 'half' } : {}) } as RequestInit);
    } catch (error) {
      throw unreachable(baseUrl, error);
    } finally {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', onAbort);
    }
    if (!response.ok) throw hostError(response.status, await response.text().catch(() => ''), baseUrl);
    return response;
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await call(method, path, { body });
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch (error) {
      throw unreachable(baseUrl, error);
    }
  }

  return {
    baseUrl,
    info: () => json('GET', '/info'),

    openConsole(serverId, consoleOptions = {}) {
      const query = new URLSearchParams();
      if (consoleOptions.readOnly) query.set('read_only', '1');
      if (consoleOptions.replay === false) query.set('replay', '0');
      const url = `${baseUrl.replace(/^http/, 'ws')}/console/${seg(serverId)}${query.size > 0 ? `?${query}` : ''}`;
      return new Promise<ConsoleStream>((resolve, reject) => {
        const socket = new WebSocket(url, { headers: { authorization }, handshakeTimeout: timeoutMs, perMessageDeflate: false });
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
        socket.once('close', (code, reason) => fail(new VmcError('unavailable', `the host closed the console (${code} ${shortReason(reason.toString())})`, { reason: 'host_unreachable' })));
      });
    },

    async logs(serverId, logOptions = {}) {
      const response = await call('GET', `/logs/${seg(serverId)}${logOptions.previousBoot ? '?previous_boot=1' : ''}`);
      return response.text();
    },
    listSnapshots: async (serverId) => (await json<{ snapshots: SnapshotWire[] }>('GET', `/snapshots/${seg(serverId)}`)).snapshots,
    createSnapshot: async (serverId, name) => (await json<{ snapshot: SnapshotWire }>('POST', `/snapshots/${seg(serverId)}`, { name })).snapshot,
    restoreSnapshot: async (serverId, name) => {
      await json('POST', `/snapshots/${seg(serverId)}/${seg(name)}/restore`);
    },
    deleteSnapshot: async (serverId, name) => {
      await json('DELETE', `/snapshots/${seg(serverId)}/${seg(name)}`);
    },

    async exportDisk(serverId, exportOptions = {}) {
      const query = new URLSearchParams({ format: exportOptions.format ?? 'qcow2' });
      if (exportOptions.compress) query.set('compress', '1');
      const response = await call('GET', `/export/${seg(serverId)}?${query}`, { headersTimeoutMs: exportTimeoutMs, signal: exportOptions.signal });
      return {
        stream: toNodeReadable(response.body),
        sizeBytes: numberHeader(response.headers.get('content-length')),
        format: response.headers.get(exportHeaders.format) === 'raw' ? 'raw' : 'qcow2',
        virtualSizeBytes: numberHeader(response.headers.get(exportHeaders.virtualSizeBytes)),
        fromRunningServer: response.headers.get(exportHeaders.fromRunningServer) === 'true',
      };
    },

    listImages: async () => (await json<{ images: HostImageWire[] }>('GET', '/images')).images,

    async uploadImage(slug, source, uploadOptions = {}) {
      const headers: Record<string, string> = {};
      if (uploadOptions.name !== undefined) headers[uploadHeaders.name] = encodeURIComponent(uploadOptions.name);
      if (uploadOptions.sha256 !== undefined) headers[uploadHeaders.sha256] = uploadOptions.sha256;
      const raw = source instanceof Readable ? source : Readable.from(source);
      // No timeout on an upload's body; the signal aborts it.
      const response = await call('PUT', `/images/${seg(slug)}`, { raw, headers, headersTimeoutMs: 24 * 3600_000, signal: uploadOptions.signal });
      return ((await response.json()) as { image: HostImageWire }).image;
    },

    async downloadImage(slug, downloadOptions = {}) {
      const response = await call('GET', `/images/${seg(slug)}/disk`, { signal: downloadOptions.signal });
      const name = response.headers.get(uploadHeaders.name);
      return {
        stream: toNodeReadable(response.body),
        sizeBytes: numberHeader(response.headers.get('content-length')),
        format: response.headers.get(exportHeaders.format),
        sha256: response.headers.get(uploadHeaders.sha256),
        name: name === null ? null : decodeURIComponent(name),
      };
    },

    pinning: async (serverId) => (await json<{ pinning: PinningWire | null }>('GET', `/pinning/${seg(serverId)}`)).pinning,
  };
}
