/**
 * A small QMP client: one unix-socket connection, newline-delimited JSON, replies matched to commands by
 * `id`, asynchronous events handed to listeners. QEMU serves one client per QMP socket; events emitted while
 * nobody is connected are lost, so callers re-read state (`query-status`) after every (re)connect.
 */
import { createConnection, type Socket } from 'node:net';

export interface QmpGreeting {
  version: { qemu: { major: number; minor: number; micro: number }; package: string };
  capabilities: string[];
}

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** A QMP `error` reply (`class` is e.g. `GenericError`, `CommandNotFound`), or the connection closing. */
export class QmpError extends Error {
  readonly errorClass: string;
  readonly command: string;

  constructor(command: string, errorClass: string, description: string) {
    super(`QMP ${command}: ${errorClass}: ${description}`);
    this.name = 'QmpError';
    this.command = command;
    this.errorClass = errorClass;
  }
}

export interface QmpClient {
  readonly greeting: QmpGreeting;
  /** Runs one command; resolves with its `return` value, rejects with QmpError on an `error` reply. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T>;
  /** Calls `listener` for every event; returns the unsubscribe function. */
  onEvent(listener: (event: QmpEvent) => void): () => void;
  /** Resolves with the first event matching `match` (subscribe before sending the command that causes it). */
  waitForEvent(match: string | ((event: QmpEvent) => boolean), timeoutMs: number): Promise<QmpEvent>;
  isOpen(): boolean;
  /** Resolves when the connection is gone (QEMU exited, or close() was called). */
  readonly closed: Promise<void>;
  close(): void;
}

export interface ConnectQmpOptions {
  /** How long to keep retrying while the socket does not exist or refuses (QEMU still starting). */
  connectTimeoutMs?: number;
  retryIntervalMs?: number;
  /** Default timeout of each command. */
  commandTimeoutMs?: number;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const retryableCodes = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

function openSocket(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const onError = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

async function openSocketWithRetry(socketPath: string, timeoutMs: number, retryIntervalMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await openSocket(socketPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!retryableCodes.has(code) || Date.now() + retryIntervalMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryIntervalMs));
    }
  }
}

/** Connects, reads the greeting and negotiates capabilities. */
export async function connectQmp(socketPath: string, options: ConnectQmpOptions = {}): Promise<QmpClient> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  const socket = await openSocketWithRetry(socketPath, connectTimeoutMs, options.retryIntervalMs ?? 25);
  socket.setEncoding('utf8');

  const pending = new Map<number, Pending>();
  const listeners = new Set<(event: QmpEvent) => void>();
  let nextId = 1;
  let buffer = '';
  let open = true;
  let greetingResolve: (greeting: QmpGreeting) => void = () => {};
  let greetingReject: (error: Error) => void = () => {};
  const greetingPromise = new Promise<QmpGreeting>((resolve, reject) => {
    greetingResolve = resolve;
    greetingReject = reject;
  });
  let closedResolve: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    closedResolve = resolve;
  });

  const handleMessage = (message: Record<string, unknown>) => {
    if ('QMP' in message) {
      greetingResolve(message.QMP as QmpGreeting);
      return;
    }
    if ('event' in message) {
      const event = message as unknown as QmpEvent;
      event.data ??= {};
      for (const listener of [...listeners]) listener(event);
      return;
    }
    const id = message.id;
    if (typeof id !== 'number') return;
    const waiter = pending.get(id);
    if (!waiter) return;
    pending.delete(id);
    clearTimeout(waiter.timer);
    if ('error' in message) {
      const error = message.error as { class?: string; desc?: string };
      waiter.reject(new QmpError(waiter.command, error.class ?? 'GenericError', error.desc ?? 'unknown error'));
    } else {
      waiter.resolve(message.return);
    }
  };

  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) {
        try {
          handleMessage(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // A line that is not JSON is not QMP: ignore it.
        }
      }
      newline = buffer.indexOf('\n');
    }
  });
  const shutdown = () => {
    if (!open) return;
    open = false;
    for (const [id, waiter] of pending) {
      pending.delete(id);
      clearTimeout(waiter.timer);
      waiter.reject(new QmpError(waiter.command, 'Disconnected', 'the QMP connection closed'));
    }
    greetingReject(new QmpError('greeting', 'Disconnected', 'the QMP connection closed before the greeting'));
    closedResolve();
  };
  socket.on('error', shutdown);
  socket.on('close', shutdown);

  const send = <T>(command: string, args: Record<string, unknown> | undefined, timeoutMs: number): Promise<T> => {
    if (!open) return Promise.reject(new QmpError(command, 'Disconnected', 'the QMP connection is closed'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new QmpError(command, 'Timeout', `no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer });
      const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      socket.write(JSON.stringify(message) + '\n');
    });
  };

  let greetingTimer: NodeJS.Timeout | undefined;
  try {
    const greeting = await Promise.race([
      greetingPromise,
      new Promise<never>((_, reject) => {
        greetingTimer = setTimeout(
          () =>
            reject(
              new QmpError(
                'greeting',
                'Timeout',
                `no QMP greeting within ${connectTimeoutMs} ms (is another client connected?)`,
              ),
            ),
          connectTimeoutMs,
        );
      }),
    ]);
    await send('qmp_capabilities', undefined, commandTimeoutMs);
    return {
      greeting,
      execute: (command, args, callOptions) => send(command, args, callOptions?.timeoutMs ?? commandTimeoutMs),
      onEvent(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      waitForEvent(match, timeoutMs) {
        const matches = typeof match === 'string' ? (event: QmpEvent) => event.event === match : match;
        return new Promise<QmpEvent>((resolve, reject) => {
          const cleanup = () => {
            clearTimeout(timer);
            listeners.delete(listener);
          };
          const listener = (event: QmpEvent) => {
            if (!matches(event)) return;
            cleanup();
            resolve(event);
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new QmpError('event', 'Timeout', `no matching event within ${timeoutMs} ms`));
          }, timeoutMs);
          listeners.add(listener);
          void closed.then(() => {
            if (!listeners.has(listener)) return;
            cleanup();
            reject(new QmpError('event', 'Disconnected', 'the QMP connection closed while waiting for an event'));
          });
        });
      },
      isOpen: () => open,
      closed,
      close() {
        socket.destroy();
        shutdown();
      },
    };
  } catch (error) {
    socket.destroy();
    shutdown();
    throw error;
  } finally {
    clearTimeout(greetingTimer);
  }
}
