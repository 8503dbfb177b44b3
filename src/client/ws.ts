/**
 * The `ws` WebSocket library (a dependency of @fastify/websocket), typed with the small surface VMCloud
 * uses. `ws` ships no types and @types/ws is not a dependency, so it is loaded through `createRequire` and
 * given these interfaces rather than an ambient `declare module`.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';

export type WsData = Buffer | ArrayBuffer | Buffer[];

/** A `ws` WebSocket (client side, or a server-side connection). */
export interface WsSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array | string, options?: { binary?: boolean }, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  on(event: 'open', listener: () => void): this;
  on(event: 'message', listener: (data: WsData, isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): this;
  once(event: 'open', listener: () => void): this;
  once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  once(event: 'error', listener: (error: Error) => void): this;
  once(event: 'unexpected-response', listener: (request: unknown, response: IncomingMessage) => void): this;
  off(event: string, listener: (...args: never[]) => void): this;
  removeAllListeners(event?: string): this;
}

export interface WsClientOptions {
  headers?: Record<string, string>;
  /** Time allowed for the HTTP upgrade. */
  handshakeTimeout?: number;
  maxPayload?: number;
  perMessageDeflate?: boolean;
}

interface WsModule {
  WebSocket: {
    new (url: string, options?: WsClientOptions): WsSocket;
    readonly CONNECTING: 0;
    readonly OPEN: 1;
    readonly CLOSING: 2;
    readonly CLOSED: 3;
  };
}

// Loaded on first use: the CLI starts without it unless it opens a console.
let loaded: WsModule | null = null;
const wsModule = (): WsModule => (loaded ??= createRequire(import.meta.url)('ws') as WsModule);

export const WebSocket: WsModule['WebSocket'] = new Proxy(function webSocket() {} as unknown as WsModule['WebSocket'], {
  construct: (_target, args: unknown[]) =>
    new (wsModule().WebSocket as unknown as new (...a: unknown[]) => object)(...args),
  get: (_target, property) => (wsModule().WebSocket as unknown as Record<PropertyKey, unknown>)[property],
});
export const wsOpen = 1;

/** Any `ws` message as one Buffer. */
export function wsDataToBuffer(data: WsData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Close codes an application may send (1000, 3000–4999); anything else becomes 1000 or 1011. */
export function forwardableCloseCode(code: number): number {
  if (code === 1000 || (code >= 3000 && code <= 4999)) return code;
  return code === 1005 || code === 1001 ? 1000 : 1011;
}

/** A close reason fits in a control frame (123 bytes). */
export function shortReason(text: string): string {
  const buffer = Buffer.from(text);
  return buffer.length <= 123
    ? text
    : buffer
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, '') + '…';
}
