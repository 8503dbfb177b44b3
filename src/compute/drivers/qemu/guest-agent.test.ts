/**
 * The guest agent client against a fake qemu-ga on a unix socket (the protocol of QEMU's guest agent:
 * JSON lines, `guest-sync-delimited` answered after 0xFF), and against a socket nobody answers on (what
 * QEMU's chardev is when the guest runs no agent): freeze and thaw, errors, and the fallback to null.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../core/log.ts';
import { connectGuestAgent, freezeGuest, GuestAgentError } from './guest-agent.ts';

interface FakeAgent {
  server: Server;
  path: string;
  commands: string[];
  frozen: () => boolean;
  close(): Promise<void>;
}

/** A fake qemu-ga: `mode` silent never answers; `refuse-freeze` answers freeze with an error. */
async function fakeAgent(dir: string, mode: 'ok' | 'silent' | 'refuse-freeze' = 'ok'): Promise<FakeAgent> {
  const path = join(dir, `qga-${mode}.sock`);
  const commands: string[] = [];
  let frozen = false;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A stale answer from an earlier client is in the channel: the client must skip it.
    if (mode !== 'silent') socket.write('{"return": {}}\n');
    let buffered = '';
    socket.on('data', (data: Buffer) => {
      buffered += data.toString('latin1').replace(/\xff/g, '');
      for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
        const line = buffered.slice(0, at);
        buffered = buffered.slice(at + 1);
        if (mode === 'silent' || line.trim() === '') continue;
        const request = JSON.parse(line) as { execute: string; arguments?: { id?: number } };
        commands.push(request.execute);
        if (request.execute === 'guest-sync-delimited')
          socket.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`{"return": ${request.arguments?.id}}\n`)]));
        else if (request.execute === 'guest-fsfreeze-freeze') {
          if (mode === 'refuse-freeze')
            socket.write('{"error": {"class": "GenericError", "desc": "fsfreeze is not supported"}}\n');
          else {
            frozen = true;
            socket.write('{"return": 2}\n');
          }
        } else if (request.execute === 'guest-fsfreeze-thaw') {
          const was = frozen ? 2 : 0;
          frozen = false;
          socket.write(`{"return": ${was}}\n`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    server,
    path,
    commands,
    frozen: () => frozen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('freeze and thaw through a guest agent that answers; stale answers skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-qga-'));
  const fake = await fakeAgent(dir);
  try {
    const agent = await connectGuestAgent(fake.path);
    assert.equal(await agent.freeze(), 2);
    assert.equal(fake.frozen(), true);
    assert.equal(await agent.thaw(), 2);
    assert.equal(fake.frozen(), false);
    agent.close();

    const frozen = await freezeGuest(fake.path, silentLogger, 'srv_a');
    assert.ok(frozen, 'frozen');
    assert.equal(frozen.frozen, 2);
    assert.equal(fake.frozen(), true);
    await frozen.thaw();
    assert.equal(fake.frozen(), false);
    assert.deepEqual(fake.commands.slice(-3), ['guest-sync-delimited', 'guest-fsfreeze-freeze', 'guest-fsfreeze-thaw']);
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('no agent in the guest (nobody answers), no socket, or a refused freeze: null, crash-consistent; nothing left frozen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vmc-qga-'));
  const silent = await fakeAgent(dir, 'silent');
  const refusing = await fakeAgent(dir, 'refuse-freeze');
  try {
    await assert.rejects(connectGuestAgent(silent.path, { syncTimeoutMs: 100 }), GuestAgentError);
    assert.equal(await freezeGuest(silent.path, silentLogger, 'srv_a', { syncTimeoutMs: 100 }), null);
    assert.equal(await freezeGuest(join(dir, 'missing.sock'), silentLogger, 'srv_a'), null);
    assert.equal(await freezeGuest(refusing.path, silentLogger, 'srv_a'), null);
    assert.equal(refusing.frozen(), false);
    assert.deepEqual(refusing.commands, ['guest-sync-delimited', 'guest-fsfreeze-freeze', 'guest-fsfreeze-thaw']);
  } finally {
    await silent.close();
    await refusing.close();
    await rm(dir, { recursive: true, force: true });
  }
});
