/**
 * The QEMU process of an instance: spawned detached (it outlives the agent; no `-daemonize`, see
 * research/qemu.md §9) with stdout/stderr in a per-instance log, found again after an agent restart from
 * its pid file, double-checked against its command line (a reused pid is not our QEMU), or by scanning /proc.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

export interface SpawnedQemu {
  pid: number;
  /** Resolves with the exit code or signal if QEMU exits while this process (its parent) is alive. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnQemu(binary: string, argv: string[], logPath: string): SpawnedQemu {
  const logFd = openSync(logPath, 'a');
  try {
    const child = spawn(binary, argv, { detached: true, stdio: ['ignore', logFd, logFd] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not spawn ${binary}`);
    return { pid: child.pid, exited };
  } finally {
    closeSync(logFd);
  }
}

async function readCmdline(pid: number): Promise<string[] | null> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Whether `pid` is a live QEMU serving this instance's QMP socket. */
export async function isInstanceQemu(pid: number, qmpSocket: string): Promise<boolean> {
  const cmdline = await readCmdline(pid);
  if (!cmdline || !cmdline.some((arg) => arg.includes(`path=${qmpSocket.replaceAll(',', ',,')},`))) return false;
  return isAlive(pid);
}

/** Live QEMU processes of this instance found by scanning /proc (pid file lost or not yet written). */
export async function findInstanceQemus(qmpSocket: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (await isInstanceQemu(pid, qmpSocket)) pids.push(pid);
  }
  return pids;
}

export async function readPidFile(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Polls until the process is gone; true if it exited within the timeout. */
export async function waitForExit(pid: number, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return true;
}

export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** RSS of a process in KiB from /proc/<pid>/status, or null. */
export async function readRssKiB(pid: number): Promise<number | null> {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
