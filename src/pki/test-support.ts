/**
 * Test support for the PKI: a CA without a database, TLS servers and clients on loopback, and the real
 * openssl binary. No sleeps: every wait ends on a socket or process event (openssl has a hang guard).
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type ConnectionOptions, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, type CertificateAuthority } from './authority.ts';

export async function testAuthority(commonName = 'Test CA'): Promise<CertificateAuthority> {
  return (await createCertificateAuthority({ commonName, nowMs: Date.now() })).authority;
}

export interface LoopbackServer {
  port: number;
  /** Client errors the server saw during handshakes (e.g. a refused client certificate). */
  clientErrors: Error[];
  /** Resolves once the server has seen `count` client errors in all. */
  clientErrorCount(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A TLS server on 127.0.0.1 that greets each client with `greet(socket)` and closes. */
export async function startTlsServer(
  options: TlsOptions,
  greet: (socket: TLSSocket) => string,
): Promise<LoopbackServer> {
  const clientErrors: Error[] = [];
  const server: Server = createServer(options, (socket) => {
    socket.on('error', () => {});
    socket.end(greet(socket));
  });
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  server.on('tlsClientError', (error) => {
    clientErrors.push(error);
    for (const waiter of waiters.filter((w) => clientErrors.length >= w.count)) waiter.resolve();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    clientErrors,
    clientErrorCount: (count) =>
      clientErrors.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TalkOutcome =
  { ok: true; greeting: string; protocol: string | null; peerFingerprintSha256: string } | { ok: false; error: Error };

/** Connects, reads everything the server sends, and reports the greeting or the error that ended it. */
export function talk(port: number, options: ConnectionOptions): Promise<TalkOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let failure: Error | undefined;
    let protocol: string | null = null;
    let peerFingerprintSha256 = '';
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
    socket.on('secureConnect', () => {
      protocol = socket.getProtocol();
      peerFingerprintSha256 = socket.getPeerCertificate().fingerprint256;
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      failure = error;
    });
    socket.on('close', () => {
      const greeting = Buffer.concat(chunks).toString();
      if (failure || greeting === '') resolve({ ok: false, error: failure ?? new Error('closed without a greeting') });
      else resolve({ ok: true, greeting, protocol, peerFingerprintSha256 });
    });
  });
}

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with stdin closed; a hang guard kills it after `timeoutMs`. */
export function runCommand(command: string, args: string[], timeoutMs = 30_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
  });
}
