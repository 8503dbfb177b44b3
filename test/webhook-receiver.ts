/**
 * A webhook receiver for tests and benchmarks: a real HTTP server that records every request (headers,
 * body) and answers what `respond` says (200 by default). Counts by `webhook-id`.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedRequest {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order (failed ones too). */
  requests: ReceivedRequest[];
  /** Requests answered 2xx, by webhook-id (a duplicate counts twice). */
  delivered: Map<string, number>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(
  options: {
    respond?: (request: { id: string; attempt: number; body: string }) => number;
    /** Keep only counts (benchmarks): no headers or bodies kept. */
    countOnly?: boolean;
    path?: string;
  } = {},
): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const delivered = new Map<string, number>();
  const attempts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(request.headers['webhook-id'] ?? '');
      const attempt = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, attempt);
      const status = options.respond?.({ id, attempt, body }) ?? 200;
      if (status >= 200 && status < 300) delivered.set(id, (delivered.get(id) ?? 0) + 1);
      if (!options.countOnly) requests.push({ id, headers: request.headers, body, status });
      if (status >= 300 && status < 400) response.setHeader('location', 'http://169.254.169.254/latest/meta-data/');
      response.statusCode = status;
      response.end(status >= 200 && status < 300 ? 'ok' : `no: ${status}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}${options.path ?? '/hook'}`,
    requests,
    delivered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
