/**
 * Prometheus metrics through `prom-client`: one registry per process role (a `serve` replica, an agent),
 * gauges whose value is read at scrape time (`readAtScrape`), and a small HTTP listener that serves a
 * registry at `GET /metrics` (`startMetricsListener`, for `--metrics-listen`). No domain knowledge.
 */
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './log.ts';

export { Counter, Gauge, Histogram, Registry };

export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** A registry with the process's own figures (`process_*`, `nodejs_*`: CPU, memory, event loop, GC). */
export function createMetricsRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client names a few gauges `…_total` (`nodejs_active_handles_total`): Prometheus keeps that suffix
    // for counters (promtool warns), so those go; the unsuffixed ones (`nodejs_active_handles`) stay.
    for (const metric of registry.getMetricsAsArray())
      if (metric.name.endsWith('_total') && !(metric instanceof Counter)) registry.removeSingleMetric(metric.name);
  }
  return registry;
}

export interface ScrapeSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * A gauge (or a counter kept elsewhere, e.g. rows in a table) whose samples `read` returns at each scrape.
 * A failing read leaves the family empty for that scrape and is logged; the scrape itself still answers.
 */
export function readAtScrape(
  registry: Registry,
  spec: {
    name: string;
    help: string;
    type: 'gauge' | 'counter';
    labelNames: readonly string[];
    read: () => Promise<readonly ScrapeSample[]>;
    log?: Pick<Logger, 'warn'>;
  },
): void {
  const load = async (metric: Gauge<string> | Counter<string>) => {
    metric.reset();
    let samples: readonly ScrapeSample[];
    try {
      samples = await spec.read();
    } catch (error) {
      spec.log?.warn({ err: error, metric: spec.name }, 'metric could not be read');
      return;
    }
    for (const sample of samples) {
      if (metric instanceof Gauge) metric.set(sample.labels, sample.value);
      else metric.inc(sample.labels, sample.value);
    }
  };
  if (spec.type === 'gauge')
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [registry],
      async collect() {
        await load(this);
      },
    });
  else
    new Counter({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      registers: [registry],
      async collect() {
        await load(this);
      },
    });
}

/** One read shared by the families filled from it during one scrape (they collect concurrently). */
export function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    if (!pending) {
      pending = read();
      const clear = () => {
        pending = null;
      };
      pending.then(clear, clear);
    }
    return pending;
  };
}

export interface MetricsListenerOptions {
  host: string;
  port: number;
  /** What `GET /metrics` answers. */
  render: () => Promise<string>;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  bearerToken?: string | null;
  log: Pick<Logger, 'warn'>;
}

/** Whether `Authorization` carries exactly this bearer token (compared in constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A plain-HTTP listener with `GET /metrics` and nothing else (`--metrics-listen`): a scrape target kept off
 * the API's address. Resolves with the bound address once listening.
 */
export async function startMetricsListener(
  options: MetricsListenerOptions,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: only GET /metrics is served here\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (options.bearerToken && !bearerMatches(request.headers.authorization, options.bearerToken)) {
      response
        .writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' })
        .end('a bearer token is required\n');
      return;
    }
    options.render().then(
      (text) => response.writeHead(200, { 'content-type': prometheusContentType }).end(text),
      (error: unknown) => {
        options.log.warn({ err: error }, 'metrics could not be rendered');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be rendered\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = bound && typeof bound === 'object' ? bound.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `HOST:PORT` (or `[v6]:PORT`) of a `--metrics-listen` flag. */
export function parseListenAddress(text: string, flag: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65535) throw new Error(`${flag} must be HOST:PORT, got ${text}`);
  return { host: match[1], port: Number(match[2]) };
}
