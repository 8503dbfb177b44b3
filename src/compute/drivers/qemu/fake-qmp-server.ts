/**
 * A fake QMP endpoint for tests: a unix-socket server that greets, negotiates and answers commands from a
 * table of handlers, and can emit events. Like QEMU it serves one client at a time: a later connection is
 * greeted once the current client has gone.
 */
import { createServer, type Server, type Socket } from 'node:net';

export type FakeQmpReply = { return: unknown } | { error: { class: string; desc: string } } | { silent: true };
export type FakeQmpHandler = (args: Record<string, unknown> | undefined) => FakeQmpReply;

export interface FakeQmpServer {
  /** Commands received, in order (after capabilities negotiation). */
  readonly received: { execute: string; arguments?: Record<string, unknown> }[];
  emitEvent(event: string, data?: Record<string, unknown>): void;
  /** Drops the current client, as QEMU exiting would. */
  disconnectClient(): void;
  close(): Promise<void>;
}

export async function startFakeQmpServer(
  socketPath: string,
  handlers: Record<string, FakeQmpHandler> = {},
): Promise<FakeQmpServer> {
  const received: FakeQmpServer['received'] = [];
  let client: Socket | null = null;
  // Like QEMU, one client at a time: a later connection waits, ungreeted, until the current one closes.
  const waiting: Socket[] = [];
  const serve = (socket: Socket) => {
    client = socket;
    socket.setEncoding('utf8');
    socket.write(
      JSON.stringify({
        QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'fake' }, capabilities: ['oob'] },
      }) + '\n',
    );
    let buffer = '';
    let negotiated = false;
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        const message = JSON.parse(line) as { execute: string; arguments?: Record<string, unknown>; id?: unknown };
        const reply = (body: Record<string, unknown>) =>
          socket.write(JSON.stringify(message.id === undefined ? body : { ...body, id: message.id }) + '\n');
        if (!negotiated) {
          if (message.execute === 'qmp_capabilities') {
            negotiated = true;
            reply({ return: {} });
          } else {
            reply({
              error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" },
            });
          }
          continue;
        }
        received.push(
          message.arguments === undefined
            ? { execute: message.execute }
            : { execute: message.execute, arguments: message.arguments },
        );
        const handler = handlers[message.execute];
        const result: FakeQmpReply = handler
          ? handler(message.arguments)
          : { error: { class: 'CommandNotFound', desc: `The command ${message.execute} has not been found` } };
        if ('silent' in result) continue;
        reply(result);
      }
    });
    socket.on('close', () => {
      if (client !== socket) return;
      client = null;
      const next = waiting.shift();
      if (next) serve(next);
    });
    socket.on('error', () => {});
  };
  const server: Server = createServer((socket) => {
    if (!client) {
      serve(socket);
      return;
    }
    waiting.push(socket);
    socket.on('close', () => {
      const index = waiting.indexOf(socket);
      if (index >= 0) waiting.splice(index, 1);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    received,
    emitEvent(event, data = {}) {
      const now = Date.now();
      client?.write(
        JSON.stringify({
          event,
          data,
          timestamp: { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 },
        }) + '\n',
      );
    },
    disconnectClient() {
      client?.destroy();
    },
    close() {
      for (const socket of waiting.splice(0)) socket.destroy();
      client?.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
