/**
 * What a QEMU instance uses, read from the host: CPU time of its process (`/proc/<pid>/stat`), resident
 * memory (`/proc/<pid>/status`), disk counters (QMP `query-blockstats`) and the tap's counters
 * (`/sys/class/net/<tap>/statistics`: the host's rx is what the guest sent). Parsers are pure.
 */
import { readFile } from 'node:fs/promises';
import type { QmpBlockStats } from './qmp-commands.ts';

/** Clock ticks per second of `/proc` times (USER_HZ, 100 on Linux). */
export const userHz = 100;

/** utime + stime of `/proc/<pid>/stat`, in seconds (the command name may hold spaces and parentheses). */
export function parseProcessCpuSeconds(stat: string): number | null {
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  // After "pid (comm) ": state is field 3, utime 14 and stime 15 (proc(5)).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / userHz : null;
}

/** `VmRSS` of `/proc/<pid>/status`, in bytes. */
export function parseResidentBytes(status: string): number | null {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : null;
}

/** The guest's disk counters: the devices' (top-level) stats summed. */
export function sumBlockStats(stats: readonly QmpBlockStats[]) {
  let readBytes = 0;
  let writeBytes = 0;
  let readOps = 0;
  let writeOps = 0;
  for (const entry of stats) {
    readBytes += entry.stats.rd_bytes ?? 0;
    writeBytes += entry.stats.wr_bytes ?? 0;
    readOps += entry.stats.rd_operations ?? 0;
    writeOps += entry.stats.wr_operations ?? 0;
  }
  return { readBytes, writeBytes, readOps, writeOps };
}

const readNumber = async (path: string) => {
  const value = Number((await readFile(path, 'utf8').catch(() => '')).trim());
  return Number.isFinite(value) ? value : 0;
};

/** A tap's counters from the guest's side: what the host transmitted the guest received. */
export async function tapCounters(tap: string, sysClassNet = '/sys/class/net') {
  const dir = `${sysClassNet}/${tap}/statistics`;
  const [hostRx, hostTx] = await Promise.all([readNumber(`${dir}/rx_bytes`), readNumber(`${dir}/tx_bytes`)]);
  return { receiveBytes: hostTx, transmitBytes: hostRx };
}

export async function processUsage(pid: number, proc = '/proc') {
  const [stat, status] = await Promise.all([
    readFile(`${proc}/${pid}/stat`, 'utf8').catch(() => ''),
    readFile(`${proc}/${pid}/status`, 'utf8').catch(() => ''),
  ]);
  return { cpuSeconds: parseProcessCpuSeconds(stat) ?? 0, memoryBytes: parseResidentBytes(status) ?? 0 };
}
