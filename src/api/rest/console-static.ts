/**
 * The web console (web/, built by `npm run build:web` into web/dist) served at `/`: its files with cache
 * headers — hashed assets immutable for a year, index.html revalidated every time — and the single-page
 * fallback: any other GET outside the API's own prefixes answers index.html, so /servers/srv_… reloads.
 * /v1, /graphql, /status, /docs, /metrics and /healthz keep their problem+json 404s.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VmcError, sendProblem } from '../../core/index.ts';
import type { Api } from './server.ts';

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

/** Paths that belong to the API and its neighbours: never the console's fallback. */
const apiPrefixes = ['/v1', '/graphql', '/graphiql', '/status', '/docs', '/metrics', '/healthz'];
export const isApiPath = (path: string) => apiPrefixes.some((p) => path === p || path.startsWith(`${p}/`));

/**
 * The console's Content-Security-Policy: scripts, styles, images and connections from this origin only.
 * `<style>` elements also with `nonce` — a fresh one for each index.html, which the page's script stamps on
 * the `<style>` elements it creates (xterm.js needs them: docs/adr/0011-console-style-nonce.md). Style
 * attributes and inline script stay refused.
 */
export function consoleCsp(nonce?: string): string {
  const styleElements = nonce ? `; style-src-elem 'self' 'nonce-${nonce}'` : '';
  return `default-src 'self'; script-src 'self'; style-src 'self'${styleElements}; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`;
}

/** index.html with the meta element that hands the page its style nonce. */
export function withStyleNonce(html: string, nonce: string): string {
  const meta = `<meta property="csp-nonce" nonce="${nonce}" />`;
  if (/<head[^>]*>/i.test(html)) return html.replace(/<head[^>]*>/i, (head) => `${head}\n    ${meta}`);
  return html.replace(/^(<!doctype html>)?/i, (doctype) => `${doctype}${meta}`);
}

const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function registerConsole(app: Api, options: { directory: string }) {
  const root = normalize(options.directory);

  async function fileAt(path: string): Promise<{ body: Buffer; file: string } | null> {
    const file = normalize(join(root, decodeURIComponent(path)));
    if (file !== root && !file.startsWith(root + sep)) return null;
    try {
      if (!(await stat(file)).isFile()) return null;
      return { body: await readFile(file), file };
    } catch {
      return null;
    }
  }

  async function serve(request: FastifyRequest, reply: FastifyReply) {
    const path = request.url.split('?')[0];
    if (isApiPath(path))
      return sendProblem(reply, request, new VmcError('not_found', `no route ${request.method} ${path}`));
    let found: { body: Buffer; file: string } | null;
    try {
      found = path === '/' ? null : await fileAt(path);
    } catch {
      found = null; // a malformed escape: the fallback answers
    }
    const hashedAsset = found !== null && path.startsWith('/assets/');
    if (!found) {
      // A missing file that looks like one (an old asset) is a 404, not the app.
      if (extname(path) !== '' && !path.endsWith('.html'))
        return sendProblem(reply, request, new VmcError('not_found', `no file ${path}`));
      found = await fileAt('index.html');
      if (!found)
        return sendProblem(
          reply,
          request,
          new VmcError('unavailable', 'the web console is not built: run `npm run build:web`', {
            reason: 'console_not_built',
          }),
        );
    }
    reply.headers(securityHeaders);
    reply.header('cache-control', hashedAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    reply.type(contentTypes[extname(found.file)] ?? 'application/octet-stream');
    if (extname(found.file) === '.html') {
      const nonce = randomBytes(18).toString('base64');
      reply.header('content-security-policy', consoleCsp(nonce));
      return reply.send(withStyleNonce(found.body.toString('utf8'), nonce));
    }
    reply.header('content-security-policy', consoleCsp());
    return reply.send(found.body);
  }

  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    config: { auth: 'public' },
    schema: { hide: true },
    handler: serve,
  });
}
