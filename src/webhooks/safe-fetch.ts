/**
 * The one way a webhook leaves the control plane: a POST with no redirects (a 3xx is a failed attempt),
 * connect within 5 s and finish within 15 s, to an address checked at connection time: the host name is
 * resolved here, every address it resolves to is checked (src/webhooks/address-policy.ts) and the socket
 * connects to the address that was checked (no second resolution a rebinding DNS server could answer
 * differently). Connections are kept alive per origin and address.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { isForbiddenAddress } from './address-policy.ts';

export interface SendResult {
  statusCode: number | null;
  latencyMs: number;
  /** The first bytes of the answer (at most 512). */
  response: string;
  error: string | null;
}

export interface WebhookSenderOptions {
  /** Allow private, loopback and link-local targets (`serve --webhook-allow-private`; tests, one-machine setups). */
  allowPrivate: boolean;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  /** Concurrent connections per origin (default 64). */
  maxSocketsPerOrigin?: number;
  /** The resolver (default: the system's, `dns.lookup`); tests pass a fake DNS. */
  resolve?: typeof dnsLookup;
}

export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string): Promise<SendResult>;
  close(): void;
}

export const responseSnippetBytes = 512;

/** Why a URL may not be a webhook target at all (scheme, an IP literal that is forbidden), or null. */
export function urlProblem(url: string, allowPrivate: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'https:' && !(allowPrivate && parsed.protocol === 'http:'))
    return allowPrivate ? 'the URL must be http or https' : 'the URL must be https';
  if (parsed.username || parsed.password) return 'the URL may not carry credentials';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate) {
    if (isIP(host) && isForbiddenAddress(host)) return `${host} is a private, loopback or link-local address`;
    if (host === 'localhost' || host.endsWith('.localhost')) return 'localhost is not allowed';
  }
  return null;
}

/** A lookup that refuses forbidden addresses and answers only checked ones (the socket connects to those). */
function checkedLookup(allowPrivate: boolean, resolve: typeof dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as Array<{ address: string; family: number }>;
      const allowed = allowPrivate ? list : list.filter((a) => !isForbiddenAddress(a.address));
      if (allowed.length === 0 || allowed.length !== list.length) {
        const refused = new Error(
          `${hostname} resolves to a private, loopback or link-local address (${list.map((a) => a.address).join(', ')})`,
        ) as NodeJS.ErrnoException;
        refused.code = 'WEBHOOK_ADDRESS_REFUSED';
        return callback(refused, '', 0);
      }
      if ((options as { all?: boolean }).all) return callback(null, allowed as never);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 15_000;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerOrigin ?? 64, timeout: 60_000 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const lookup = checkedLookup(options.allowPrivate, options.resolve ?? dnsLookup);

  return {
    send(url, headers, body) {
      const started = performance.now();
      const done = (partial: Omit<SendResult, 'latencyMs'>): SendResult => ({
        ...partial,
        latencyMs: Math.round(performance.now() - started),
      });
      const problem = urlProblem(url, options.allowPrivate);
      if (problem) return Promise.resolve(done({ statusCode: null, response: '', error: problem }));
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      return new Promise<SendResult>((resolve) => {
        let settled = false;
        const finish = (result: Omit<SendResult, 'latencyMs'>) => {
          if (settled) return;
          settled = true;
          clearTimeout(total);
          resolve(done(result));
        };
        const request = (secure ? https : http).request(
          target,
          {
            method: 'POST',
            agent: secure ? httpsAgent : httpAgent,
            lookup,
            headers: {
              ...headers,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
              'user-agent': 'VMCloud-Webhooks/1',
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on('data', (chunk: Buffer) => {
              if (size < responseSnippetBytes) chunks.push(chunk);
              size += chunk.length;
            });
            response.on('end', () => {
              const text = Buffer.concat(chunks).subarray(0, responseSnippetBytes).toString('utf8');
              const status = response.statusCode ?? 0;
              finish({
                statusCode: status,
                response: text,
                error:
                  status >= 200 && status < 300
                    ? null
                    : status >= 300 && status < 400
                      ? 'redirects are not followed'
                      : `HTTP ${status}`,
              });
            });
            response.on('error', (error) => finish({ statusCode: status(), response: '', error: error.message }));
            const status = () => response.statusCode ?? null;
          },
        );
        const total = setTimeout(() => {
          request.destroy(new Error(`no complete answer within ${totalTimeoutMs} ms`));
        }, totalTimeoutMs);
        request.on('socket', (socket) => {
          if (!socket.connecting) return;
          const connectTimer = setTimeout(
            () => request.destroy(new Error(`could not connect within ${connectTimeoutMs} ms`)),
            connectTimeoutMs,
          );
          socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
          socket.once('close', () => clearTimeout(connectTimer));
        });
        request.on('error', (error: NodeJS.ErrnoException) =>
          finish({ statusCode: null, response: '', error: error.message || String(error.code) }),
        );
        request.end(body);
      });
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
