import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connectConsole } from './console-hub.ts';

/** A stand-in for QEMU's console chardev: one client, records what it receives. */
async function fakeSerial(path: string) {
  let client: Socket | null = null;
  const received: Buffer[] = [];
  let resolveConnected: (socket: Socket) => void = () => {};
  const connected = new Promise<Socket>((resolve) => {
    resolveConnected = resolve;
  });
  const server = createServer((socket) => {
    client = socket;
    socket.on('data', (chunk) => received.push(chunk));
    resolveConnected(socket);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    connected,
    received,
    close: () =>
      new Promise<void>((done) => {
        client?.destroy();
        server.close(() => done());
      }),
  };
}

function readUntil(stream: Duplex, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        stream.off('data', onData);
        resolve(seen);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`stream ended before ${text}; saw ${seen}`)));
  });
}

test('fans guest output out to every session, replays scrollback, forwards input unless read-only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-console-'));
  try {
    const path = join(dir, 'console.sock');
    const serial = await fakeSerial(path);
    const hub = await connectConsole(path, { initialScrollback: Buffer.from('old boot log\n') });
    const guest = await serial.connected;

    const first = hub.attach();
    const firstSaw = readUntil(first, 'login:');
    guest.write('Welcome\nlogin:');
    assert.equal(await firstSaw, 'old boot log\nWelcome\nlogin:');

    const viewer = hub.attach({ readOnly: true });
    assert.match(await readUntil(viewer, 'login:'), /old boot log\nWelcome\nlogin:$/);
    assert.equal(hub.sessionCount(), 2);

    viewer.write('rm -rf /\n');
    first.write('root\n');
    await once(guest, 'data');
    assert.equal(Buffer.concat(serial.received).toString(), 'root\n');

    viewer.destroy();
    assert.equal(hub.sessionCount(), 1);

    const ended = once(first, 'end');
    first.resume();
    guest.destroy();
    await ended;
    await hub.closed;
    assert.equal(hub.sessionCount(), 0);
    await serial.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
