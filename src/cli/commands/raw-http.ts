/**
 * Requests of the CLI whose bodies are not JSON: boot logs (text), disk exports and image uploads
 * (streams). Same profile, token and error mapping as the JSON client (src/cli/client.ts).
 */
import { VmcError } from '../../core/errors.ts';
import { buildUrl, errorFromResponse, fetchTrusting, networkError, type Query } from '../../client/index.ts';
import type { Context } from '../command.ts';

export interface RawRequestOptions {
  query?: Query;
  headers?: Record<string, string>;
  /** A request body (an upload): a web ReadableStream or bytes. */
  body?: ReadableStream<Uint8Array> | Uint8Array;
  /** Bounds the wait for the response headers only; a streamed body may take longer. Default 30 s. */
  headersTimeoutMs?: number;
}

/** The response of a successful request (2xx); anything else throws the problem as a VmcError. */
export async function rawRequest(
  ctx: Context,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  options: RawRequestOptions = {},
): Promise<Response> {
  const profile = await ctx.profile();
  if (!profile.token)
    throw new VmcError('unauthenticated', 'no API token: run `vmcloud login --token vmc_…` or set VMCLOUD_TOKEN', {
      reason: 'no_token',
    });
  const baseUrl = profile.url.replace(/\/+$/, '');
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('timed out', 'TimeoutError')),
    options.headersTimeoutMs ?? 30_000,
  );
  let response: Response;
  try {
    const tlsFetch = profile.caCert ? fetchTrusting(profile.caCert) : fetch;
    response = await (ctx.io.fetch ?? tlsFetch)(buildUrl(baseUrl, path, options.query), {
      method,
      headers: { authorization: `Bearer ${profile.token}`, 'user-agent': 'vmcloud-cli', ...options.headers },
      body: options.body,
      signal: controller.signal,
      ...(options.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    throw networkError(baseUrl, error);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    throw errorFromResponse(response.status, parsed, response.headers);
  }
  return response;
}

/** `1.5 GiB`, `12.0 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A progress line on stderr redrawn in place (TTY only), at most once per MiB. */
export function byteProgress(ctx: Context, label: string, totalBytes: number | null) {
  let lastMiB = -1;
  return {
    update(bytes: number) {
      if (!ctx.io.isTTY) return;
      const mib = Math.floor(bytes / (1024 * 1024));
      if (mib === lastMiB) return;
      lastMiB = mib;
      const total = totalBytes ? ` / ${formatBytes(totalBytes)} (${Math.floor((bytes / totalBytes) * 100)}%)` : '';
      ctx.err(`\r${label} ${formatBytes(bytes)}${total}\x1b[K`);
    },
    done() {
      if (ctx.io.isTTY && lastMiB >= 0) ctx.err('\r\x1b[K');
    },
  };
}
