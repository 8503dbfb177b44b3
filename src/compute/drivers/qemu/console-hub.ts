/**
 * The serial console of one running instance. QEMU's console socket takes one client and drops output
 * when nobody is connected, so the driver holds the single connection and fans it out: every attached
 * session is a Duplex stream (guest bytes out, keyboard bytes in; read-only sessions drop their input),
 * replaying recent output first. QEMU's chardev `logfile` keeps the whole boot log on disk regardless.
 */
import { createConnection, type Socket } from 'node:net';
import { Duplex } from 'node:stream';

export interface ConsoleAttachOptions {
  /** Input from this session is discarded (viewers, audits). */
  readOnly?: boolean;
  /** Replay the recent output kept by the hub before live output (default true). */
  replay?: boolean;
}

export interface ConsoleHub {
  attach(options?: ConsoleAttachOptions): Duplex;
  /** Number of attached sessions. */
  sessionCount(): number;
  /** Resolves when the console connection is gone (QEMU exited) or close() was called. */
  readonly closed: Promise<void>;
  close(): void;
}

export interface ConnectConsoleOptions {
  /** Output to replay to the first sessions (e.g. the tail of the on-disk boot log). */
  initialScrollback?: Buffer;
  scrollbackBytes?: number;
  connectTimeoutMs?: number;
}

function connectWithRetry(path: string, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const socket = createConnection(path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        if ((error.code === 'ENOENT' || error.code === 'ECONNREFUSED') && Date.now() < deadline)
          setTimeout(tryOnce, 25);
        else reject(error);
      });
    };
    tryOnce();
  });
}

export async function connectConsole(socketPath: string, options: ConnectConsoleOptions = {}): Promise<ConsoleHub> {
  const socket = await connectWithRetry(socketPath, options.connectTimeoutMs ?? 5000);
  const scrollbackBytes = options.scrollbackBytes ?? 64 * 1024;
  let scrollback = (options.initialScrollback ?? Buffer.alloc(0)).subarray(-scrollbackBytes);
  const sessions = new Set<Duplex>();
  let open = true;
  let closedResolve: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });

  socket.on('data', (chunk: Buffer) => {
    scrollback = Buffer.concat([scrollback, chunk]).subarray(-scrollbackBytes);
    for (const session of sessions) session.push(chunk);
  });
  const shutdown = () => {
    if (!open) return;
    open = false;
    for (const session of sessions) session.push(null);
    sessions.clear();
    closedResolve();
  };
  socket.on('close', shutdown);
  socket.on('error', shutdown);

  return {
    attach(attachOptions = {}) {
      const session: Duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _encoding, callback) {
          if (attachOptions.readOnly || !open) callback();
          else socket.write(chunk, () => callback());
        },
        final(callback) {
          sessions.delete(session);
          callback();
        },
        destroy(error, callback) {
          sessions.delete(session);
          callback(error);
        },
      });
      if (attachOptions.replay !== false && scrollback.length > 0) session.push(Buffer.from(scrollback));
      if (open) sessions.add(session);
      else session.push(null);
      return session;
    },
    sessionCount: () => sessions.size,
    closed,
    close() {
      socket.destroy();
      shutdown();
    },
  };
}
