import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTcpBalancer } from './tcp-balancer.ts';

/** A TCP server that answers every connection with its name and closes. */
async function namedServer(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

test('tcp balancer: connections go round robin to the live backends, a dead one is skipped', async () => {
  const a = await namedServer('a');
  const b = await namedServer('b');
  const balancer = createTcpBalancer();
  try {
    const port = await balancer.listen({ host: '127.0.0.1', port: 0 });
    assert.equal(await ask(port), '', 'no backend: the connection is closed');
    balancer.setBackends([
      { host: '127.0.0.1', port: a.port },
      { host: '127.0.0.1', port: b.port },
    ]);
    const answers = [await ask(port), await ask(port), await ask(port), await ask(port)];
    assert.deepEqual([...answers].sort(), ['a', 'a', 'b', 'b']);
    await b.close();
    // b refuses connections now (it died before the launcher noticed): every connection still reaches a.
    assert.deepEqual([await ask(port), await ask(port), await ask(port)], ['a', 'a', 'a']);
  } finally {
    await balancer.close();
    await a.close();
  }
});
