/**
 * The QEMU guest agent (qemu-ga in the guest, `org.qemu.guest_agent.0` on a virtio-serial port, a unix
 * socket on the host): just what application-consistent backups need — `guest-sync-delimited` to find the
 * start of a fresh answer, `guest-fsfreeze-freeze` and `guest-fsfreeze-thaw`.
 *
 * The socket accepts a connection whether or not an agent runs in the guest (QEMU owns it), so every
 * command has a timeout: a guest without an agent simply never answers, and the caller falls back to a
 * crash-consistent backup. Answers are JSON lines; `guest-sync-delimited` answers after a 0xFF byte, which
 * also makes the agent drop any half-read input of an earlier client.
 */
import { connect, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import type { Logger } from '../../../core/log.ts';

export interface GuestAgent {
  /** Freezes the guest's filesystems; resolves with how many were frozen. */
  freeze(): Promise<number>;
  /** Thaws them; resolves with how many were thawed. */
  thaw(): Promise<number>;
  close(): void;
}

export class GuestAgentError extends Error {}

/** Connects and syncs: rejects (GuestAgentError) when no agent answers within `timeoutMs`. */
export async function connectGuestAgent(
  socketPath: string,
  options: { syncTimeoutMs?: number; freezeTimeoutMs?: number } = {},
): Promise<GuestAgent> {
  const syncTimeoutMs = options.syncTimeoutMs ?? 2000;
  const freezeTimeoutMs = options.freezeTimeoutMs ?? 30_000;
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(socketPath);
    s.once('connect', () => resolve(s));
    s.once('error', (error) => reject(new GuestAgentError(`no guest agent socket: ${error.message}`)));
  });
  let buffered = '';
  let waiter: ((line: string) => void) | null = null;
  let closedError: Error | null = null;
  const lines: string[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    buffered += text;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const line = buffered.slice(0, at).trim();
      buffered = buffered.slice(at + 1);
      if (line === '') continue;
      if (waiter) {
        const w = waiter;
        waiter = null;
        w(line);
      } else lines.push(line);
    }
  });
  socket.on('error', (error) => (closedError = error));
  socket.on('close', () => (closedError ??= new GuestAgentError('the guest agent socket closed')));

  const nextLine = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      if (lines.length > 0) return resolve(lines.shift()!);
      if (closedError) return reject(closedError);
      const timer = setTimeout(() => {
        waiter = null;
        reject(new GuestAgentError(`the guest agent did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
    });

  /** Sends a command; answers that are not JSON, or that `accept` refuses (stale ones), are skipped. */
  async function execute(
    command: string,
    args: object | undefined,
    timeoutMs: number,
    accept: (answer: unknown) => boolean = () => true,
  ): Promise<unknown> {
    socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = (await nextLine(Math.max(1, deadline - Date.now()))).replace(/^\xff+/, '');
      let answer: { return?: unknown; error?: { class?: string; desc?: string } };
      try {
        answer = JSON.parse(line) as typeof answer;
      } catch {
        continue;
      }
      if (answer.error) throw new GuestAgentError(`${command}: ${answer.error.desc ?? answer.error.class ?? 'error'}`);
      if (accept(answer.return)) return answer.return;
    }
  }

  try {
    const id = randomInt(1, 2 ** 31);
    socket.write(Buffer.from([0xff]));
    await execute('guest-sync-delimited', { id }, syncTimeoutMs, (answer) => answer === id);
  } catch (error) {
    socket.destroy();
    throw error;
  }

  return {
    freeze: async () => Number(await execute('guest-fsfreeze-freeze', undefined, freezeTimeoutMs)),
    thaw: async () => Number(await execute('guest-fsfreeze-thaw', undefined, freezeTimeoutMs)),
    close: () => socket.destroy(),
  };
}

/**
 * Freezes the guest's filesystems when its agent answers; null otherwise (crash-consistent then). The
 * returned `thaw` must be called once the backup's point in time is taken; it never throws (a thaw that
 * fails is logged: qemu-ga also thaws by itself after its own timeout).
 */
export async function freezeGuest(
  socketPath: string,
  log: Logger,
  serverId: string,
  options: { syncTimeoutMs?: number; freezeTimeoutMs?: number } = {},
): Promise<{ frozen: number; thaw(): Promise<void> } | null> {
  let agent: GuestAgent;
  try {
    agent = await connectGuestAgent(socketPath, options);
  } catch (error) {
    log.debug({ serverId, reason: (error as Error).message }, 'no guest agent: crash-consistent backup');
    return null;
  }
  try {
    const frozen = await agent.freeze();
    return {
      frozen,
      async thaw() {
        try {
          await agent.thaw();
        } catch (error) {
          log.warn({ serverId, err: error }, 'guest-fsfreeze-thaw failed');
        } finally {
          agent.close();
        }
      },
    };
  } catch (error) {
    log.warn({ serverId, reason: (error as Error).message }, 'guest-fsfreeze-freeze failed: crash-consistent backup');
    // A freeze that timed out may still complete in the guest: thaw to be sure.
    await agent.thaw().catch(() => {});
    agent.close();
    return null;
  }
}
