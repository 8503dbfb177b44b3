/**
 * vCPU pinning: vCPU i's thread (from `query-cpus-fast`, while the VM is still paused) is bound to the
 * claimed host thread `spec.threads[i]` with `taskset -pc`, then checked from
 * `/proc/<pid>/task/<tid>/status` (`Cpus_allowed_list`). Claimed threads this host does not have (a spec
 * written for a bigger host, or a test on a 2-CPU machine) are skipped with a warning, never guessed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseCpuList } from '../../../inventory/index.ts';

export { parseCpuList };

const execFileAsync = promisify(execFile);

export interface VcpuThread {
  cpuIndex: number;
  threadId: number;
}

export interface PinPlanEntry {
  vcpu: number;
  threadId: number;
  /** The claimed host thread, or null when the spec claims none for this vCPU. */
  hostThread: number | null;
  action: 'pin' | 'skip';
  warning?: string;
}

export interface VcpuPin {
  vcpu: number;
  threadId: number;
  hostThread: number | null;
  pinned: boolean;
  /** Host threads the vCPU thread may run on, read back from /proc after pinning. */
  allowedThreads: number[];
  warning?: string;
}

export interface PinResult {
  /** True when every vCPU that was pinned runs only on its claimed thread. */
  verified: boolean;
  vcpus: VcpuPin[];
  checkedAt: string;
}

/** `Cpus_allowed_list` of a /proc/<pid>/task/<tid>/status text. */
export function parseCpusAllowedList(statusText: string): number[] {
  const line = statusText.split('\n').find((entry) => entry.startsWith('Cpus_allowed_list:'));
  return line ? parseCpuList(line.slice('Cpus_allowed_list:'.length)) : [];
}

export function planPinning(
  vcpuThreads: VcpuThread[],
  claimedThreads: number[],
  hostThreads: Set<number>,
): PinPlanEntry[] {
  return [...vcpuThreads]
    .sort((a, b) => a.cpuIndex - b.cpuIndex)
    .map(({ cpuIndex, threadId }) => {
      const hostThread = claimedThreads[cpuIndex] ?? null;
      if (hostThread === null) {
        return {
          vcpu: cpuIndex,
          threadId,
          hostThread,
          action: 'skip',
          warning: `no claimed host thread for vCPU ${cpuIndex}`,
        };
      }
      if (!hostThreads.has(hostThread)) {
        return {
          vcpu: cpuIndex,
          threadId,
          hostThread,
          action: 'skip',
          warning: `claimed host thread ${hostThread} does not exist on this host (online: ${[...hostThreads].sort((a, b) => a - b).join(',')}); vCPU ${cpuIndex} left unpinned`,
        };
      }
      return { vcpu: cpuIndex, threadId, hostThread, action: 'pin' };
    });
}

export async function readAllowedThreads(pid: number, threadId: number): Promise<number[]> {
  return parseCpusAllowedList(await readFile(`/proc/${pid}/task/${threadId}/status`, 'utf8'));
}

function summarize(vcpus: VcpuPin[], nowIso: string): PinResult {
  const verified = vcpus.every(
    (pin) => !pin.pinned || (pin.allowedThreads.length === 1 && pin.allowedThreads[0] === pin.hostThread),
  );
  return { verified, vcpus, checkedAt: nowIso };
}

/** Pins each planned vCPU thread with taskset and reads the affinity back. */
export async function applyPinning(
  pid: number,
  plan: PinPlanEntry[],
  options: { taskset?: string; nowIso: string },
): Promise<PinResult> {
  const vcpus: VcpuPin[] = [];
  for (const entry of plan) {
    if (entry.action === 'pin' && entry.hostThread !== null) {
      await execFileAsync(options.taskset ?? 'taskset', ['-pc', String(entry.hostThread), String(entry.threadId)]);
    }
    const allowedThreads = await readAllowedThreads(pid, entry.threadId);
    vcpus.push({
      vcpu: entry.vcpu,
      threadId: entry.threadId,
      hostThread: entry.hostThread,
      pinned: entry.action === 'pin',
      allowedThreads,
      ...(entry.warning ? { warning: entry.warning } : {}),
    });
  }
  return summarize(vcpus, options.nowIso);
}

/** Re-reads the affinity of every vCPU thread now (pinning survives agent restarts: it is the kernel's). */
export async function inspectPinning(pid: number, previous: PinResult, nowIso: string): Promise<PinResult> {
  const vcpus: VcpuPin[] = [];
  for (const pin of previous.vcpus) vcpus.push({ ...pin, allowedThreads: await readAllowedThreads(pid, pin.threadId) });
  return summarize(vcpus, nowIso);
}
