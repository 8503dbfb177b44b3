/**
 * What `list()` reports for one instance, as a pure function of what the driver can see: an operation in
 * flight, the QMP status of a live QEMU, or — when the process is gone — the recorded intent, the last
 * SHUTDOWN event, the exit status and the end of the boot log.
 */
import type { ObservedPower } from '../driver.ts';
import type { InstanceStateFile } from './instance-files.ts';

export interface Observation {
  transition: 'starting' | 'stopping' | null;
  /** `query-status` of the live QEMU (`running`, `prelaunch`, `guest-panicked`…), `unreachable`, or null when no process runs. */
  qmpStatus: string | null;
  state: InstanceStateFile;
  /** The last lines of the guest console (for the kernel's `reboot: Power down`). */
  consoleTail: string;
}

export function observePower(observation: Observation): { power: ObservedPower; detail?: string } {
  const { transition, qmpStatus, state } = observation;
  if (transition) return { power: transition };
  if (qmpStatus !== null) {
    switch (qmpStatus) {
      case 'running':
      case 'paused':
      case 'suspended':
      case 'save-vm':
      case 'restore-vm':
      case 'finish-migrate':
        return { power: 'running' };
      case 'prelaunch':
      case 'inmigrate':
        return { power: 'starting' };
      case 'shutdown':
        return { power: 'stopping' };
      case 'guest-panicked':
        return { power: 'crashed', detail: 'the guest kernel panicked (pvpanic); QEMU is paused' };
      case 'unreachable':
        return { power: 'running', detail: 'QEMU runs but its QMP socket did not answer' };
      default:
        return { power: 'crashed', detail: `QEMU reports status ${qmpStatus}` };
    }
  }
  if (state.intent === 'stopped') return { power: 'stopped' };
  if (state.lastShutdown?.guest && state.lastShutdown.reason === 'guest-shutdown') {
    return { power: 'stopped', detail: 'the guest powered itself off' };
  }
  if (state.lastShutdown === null && state.lastExit === null && /reboot: Power down/.test(observation.consoleTail)) {
    return { power: 'stopped', detail: 'the guest powered itself off' };
  }
  if (state.lastExit) {
    const how = state.lastExit.signal ? `signal ${state.lastExit.signal}` : `exit code ${state.lastExit.code}`;
    return { power: 'crashed', detail: `QEMU exited unexpectedly (${how})` };
  }
  if (state.lastShutdown)
    return { power: 'crashed', detail: `QEMU shut down unexpectedly (${state.lastShutdown.reason})` };
  return { power: 'crashed', detail: 'the QEMU process is gone' };
}
