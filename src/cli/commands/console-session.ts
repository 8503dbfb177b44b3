/**
 * A terminal attached to a server's serial console over the API's WebSocket: raw bytes both ways, the
 * local terminal in raw mode when stdin is a TTY (so Ctrl-C, arrows and tab reach the guest), and `Ctrl-]`
 * (0x1d, as telnet and virsh) to detach.
 */
import { errorFromResponse } from '../../client/index.ts';
import { WebSocket, wsDataToBuffer } from '../../client/index.ts';
import { VmcError } from '../../core/errors.ts';

export const detachByte = 0x1d;

export interface TerminalIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: { write(chunk: Uint8Array | string): unknown };
  stderr: { write(text: string): unknown };
}

export interface SessionEnd {
  /** `detached`: the user pressed Ctrl-]; `closed`: the server side closed (the server stopped, say). */
  how: 'detached' | 'closed';
  code: number;
  reason: string;
}

/** `http://cp:8080` + `/v1/servers/…/console?ticket=…` → `ws://cp:8080/v1/servers/…/console?ticket=…`. */
export function consoleWebSocketUrl(baseUrl: string, path: string): string {
  const url = new URL(path, baseUrl.replace(/\/+$/, '') + '/');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The bytes typed before Ctrl-], and whether Ctrl-] was typed. */
export function splitAtDetach(chunk: Buffer): { before: Buffer; detach: boolean } {
  const at = chunk.indexOf(detachByte);
  return at < 0 ? { before: chunk, detach: false } : { before: chunk.subarray(0, at), detach: true };
}

export function attachTerminal(wsUrl: string, io: TerminalIo, label: string): Promise<SessionEnd> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    let detached = false;
    let rawMode = false;
    const restore = () => {
      io.stdin.off('data', onInput);
      if (rawMode) io.stdin.setRawMode?.(false);
      rawMode = false;
      io.stdin.pause();
    };
    const onInput = (chunk: Buffer | string) => {
      const { before, detach } = splitAtDetach(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      if (before.length > 0) socket.send(before, { binary: true });
      if (detach) {
        detached = true;
        socket.close(1000, 'detached');
      }
    };
    socket.on('open', () => {
      if (io.stdin.isTTY && io.stdin.setRawMode) {
        io.stdin.setRawMode(true);
        rawMode = true;
      }
      io.stderr.write(`Connected to the console of ${label}. Press Enter for a prompt; Ctrl-] detaches.\r\n`);
      io.stdin.on('data', onInput);
      io.stdin.resume();
    });
    socket.on('message', (data) => io.stdout.write(wsDataToBuffer(data)));
    socket.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        const headers = { get: (name: string) => (response.headers[name.toLowerCase()] as string | undefined) ?? null };
        reject(errorFromResponse(response.statusCode ?? 502, parsed, headers));
        socket.terminate();
      });
    });
    socket.on('error', (error) => {
      restore();
      reject(
        new VmcError('unavailable', `the console connection failed: ${error.message}`, { reason: 'console_failed' }),
      );
    });
    socket.on('close', (code, reason) => {
      restore();
      resolve({ how: detached ? 'detached' : 'closed', code, reason: reason.toString() });
    });
  });
}
