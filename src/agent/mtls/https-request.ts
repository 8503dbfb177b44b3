/**
 * One HTTPS request with node:https and explicit TLS options (a pinned CA, a client certificate, a peer
 * identity check): what mutual TLS needs and the built-in fetch cannot take. Resolves with the response
 * once its headers arrived (the body is the caller's to read or stream); a request whose headers do not
 * arrive within `headersTimeoutMs` fails with a TimeoutError.
 */
import { request as httpsRequestOf, type Agent } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import { Readable } from 'node:stream';

export interface HttpsRequestOptions {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  /** CA, client certificate, checkServerIdentity… (src/pki tlsClientOptions). */
  tls: ConnectionOptions;
  /** A keep-alive agent made with the same TLS options; default none (one connection per request). */
  agent?: Agent;
  headersTimeoutMs?: number;
  signal?: AbortSignal;
}

export function httpsRequest(options: HttpsRequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    };
    const request = httpsRequestOf(
      options.url,
      {
        ...options.tls,
        method: options.method,
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (response) => {
        if (settled) {
          response.destroy();
          return;
        }
        settled = true;
        clearTimeout(timer);
        // The caller's signal goes on aborting the body (an export, a download).
        if (options.signal) {
          options.signal.removeEventListener('abort', onAbort);
          const abortBody = () => response.destroy(abortError(options.signal!));
          if (options.signal.aborted) abortBody();
          else options.signal.addEventListener('abort', abortBody, { once: true });
          response.once('close', () => options.signal!.removeEventListener('abort', abortBody));
        }
        resolve(response);
      },
    );
    const timer = setTimeout(
      () => request.destroy(Object.assign(new Error('timed out waiting for the response'), { name: 'TimeoutError' })),
      options.headersTimeoutMs ?? 30_000,
    );
    const onAbort = () => request.destroy(abortError(options.signal!));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', fail);
    const body = options.body;
    if (body instanceof Readable) {
      body.once('error', (error) => request.destroy(error));
      body.pipe(request);
    } else {
      request.end(body);
    }
  });
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  return reason instanceof Error ? reason : Object.assign(new Error('the request was aborted'), { name: 'AbortError' });
}

/** The whole body as text (answers of a few megabytes at most; refuses more than `maxBytes`). */
export async function readText(response: IncomingMessage, maxBytes = 16 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      response.destroy();
      throw new Error(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One header value as text (the first of a repeated header). */
export function headerOf(response: IncomingMessage, name: string): string | null {
  const value = response.headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : String(value);
}
