import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createWebhookSender } from './safe-fetch.ts';

async function server(handler: Parameters<typeof createServer>[1]) {
  const s = createServer(handler);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, close: () => new Promise<void>((resolve) => (s.closeAllConnections(), s.close(() => resolve()))) };
}

test('the sender refuses names that resolve to loopback unless private targets are allowed', async (t) => {
  let hits = 0;
  const target = await server((_req, res) => {
    hits++;
    res.end('ok');
  });
  t.after(() => target.close());
  // A fake DNS: `rebind.test` resolves to loopback (what a DNS-rebinding attacker answers), `mixed.test` to
  // a public and a loopback address. The sender resolves once, checks every address, connects to a checked one.
  const fakeDns = ((hostname: string, _options: unknown, callback: (e: Error | null, a: unknown) => void) => {
    const answers: Record<string, Array<{ address: string; family: number }>> = {
      'rebind.test': [{ address: '127.0.0.1', family: 4 }],
      'mixed.test': [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    };
    callback(null, answers[hostname] ?? []);
  }) as never;
  const strict = createWebhookSender({ allowPrivate: false, resolve: fakeDns });
  const open = createWebhookSender({ allowPrivate: true });
  t.after(() => (strict.close(), open.close()));
  const refused = await strict.send(`https://rebind.test:${target.port}/x`, {}, '{}');
  assert.equal(refused.statusCode, null);
  assert.match(refused.error!, /private, loopback or link-local/);
  const mixed = await strict.send(`https://mixed.test:${target.port}/x`, {}, '{}');
  assert.match(mixed.error!, /private, loopback or link-local/);
  const literal = await strict.send(`https://127.0.0.1:${target.port}/x`, {}, '{}');
  assert.match(literal.error!, /private/);
  assert.equal(hits, 0, 'nothing reached the loopback server');
  const allowed = await open.send(`http://localhost:${target.port}/x`, {}, '{}');
  assert.equal(allowed.statusCode, 200);
  assert.equal(hits, 1);
});

test('redirects are not followed, slow answers time out, answers are cut to 512 bytes', async (t) => {
  let followed = 0;
  const target = await server((req, res) => {
    if (req.url === '/redirect') {
      res.statusCode = 302;
      res.setHeader('location', '/landing');
      return res.end();
    }
    if (req.url === '/landing') followed++;
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
    res.end('x'.repeat(5000));
  });
  t.after(() => target.close());
  const sender = createWebhookSender({ allowPrivate: true, totalTimeoutMs: 300 });
  t.after(() => sender.close());
  const redirect = await sender.send(`http://127.0.0.1:${target.port}/redirect`, {}, '{}');
  assert.equal(redirect.statusCode, 302);
  assert.match(redirect.error!, /redirect/);
  assert.equal(followed, 0);
  const slow = await sender.send(`http://127.0.0.1:${target.port}/slow`, {}, '{}');
  assert.equal(slow.statusCode, null);
  assert.match(slow.error!, /within 300 ms/);
  const big = await sender.send(`http://127.0.0.1:${target.port}/big`, {}, '{}');
  assert.equal(big.statusCode, 200);
  assert.equal(big.response.length, 512);
});
