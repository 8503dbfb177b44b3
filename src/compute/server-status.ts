import type { ObservedInstance } from './drivers/driver.ts';

export type DesiredState = 'running' | 'stopped' | 'deleted';
export type ServerStatus =
  | 'pending'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'rebooting'
  | 'deleting'
  | 'deleted'
  | 'error'
  | 'unknown';

export interface StatusInputs {
  desired: DesiredState;
  /** What the host reports; null when the host knows no such instance. */
  observed: ObservedInstance | null;
  rebootGeneration: number;
  hostUp: boolean;
  /** The status before this report (a pending server stays pending until its host acts). */
  previous: ServerStatus;
}

/** The status a customer sees, derived from desired and observed state. Pure. */
export function deriveServerStatus(input: StatusInputs): ServerStatus {
  const { desired, observed } = input;
  if (!input.hostUp) return desired === 'deleted' && observed === null ? 'deleted' : 'unknown';
  // The host agent gave up on an operation (start, stop, reboot or destroy): whatever was asked, it failed.
  if (observed?.power === 'failed') return 'error';
  if (desired === 'deleted') return observed === null ? 'deleted' : 'deleting';
  if (observed?.power === 'crashed') return 'error';
  if (desired === 'stopped') {
    if (observed === null || observed.power === 'stopped') return 'stopped';
    return 'stopping';
  }
  if (observed === null) return input.previous === 'pending' ? 'pending' : 'starting';
  if (observed.power === 'running')
    return observed.rebootGeneration >= input.rebootGeneration ? 'running' : 'rebooting';
  if (observed.power === 'stopping' || observed.power === 'stopped') return 'starting';
  return 'starting';
}

export type ActionCommand =
  'create' | 'start' | 'stop' | 'reboot' | 'delete' | 'migrate' | 'resize' | 'rebuild' | 'attach_iso' | 'detach_iso';

export interface ActionTarget {
  /** The status that finishes the action. */
  status: ServerStatus;
  /** For reboot: the reboot generation that must be observed. */
  rebootGeneration?: number;
}

export type ActionVerdict =
  | { done: false; progress: number }
  | { done: true; ok: true }
  | { done: true; ok: false; code: string; message: string };

const progressByStatus: Partial<Record<ServerStatus, number>> = {
  pending: 10,
  starting: 50,
  stopping: 50,
  rebooting: 50,
  deleting: 50,
};

/**
 * Whether a server's new status finishes a running action. Pure. `operationFailed` says the host reported
 * the server `failed` (its agent gave up on the operation): that ends any action in error, a stop or a
 * delete included, whereas a merely crashed server is still on its way to stopped or deleted.
 */
export function judgeAction(
  target: ActionTarget,
  status: ServerStatus,
  observedRebootGeneration: number,
  errorDetail: string | null,
  operationFailed = false,
): ActionVerdict {
  if (
    status === target.status &&
    (target.rebootGeneration === undefined || observedRebootGeneration >= target.rebootGeneration)
  ) {
    return { done: true, ok: true };
  }
  if (status === 'error' && operationFailed) {
    return {
      done: true,
      ok: false,
      code: 'operation_failed',
      message: errorDetail ?? 'the host could not carry out the operation',
    };
  }
  if (status === 'error' && target.status !== 'deleted' && target.status !== 'stopped') {
    return { done: true, ok: false, code: 'server_error', message: errorDetail ?? 'the server failed on its host' };
  }
  if (status === 'deleted' && target.status !== 'deleted') {
    return {
      done: true,
      ok: false,
      code: 'server_deleted',
      message: 'the server was deleted before the action finished',
    };
  }
  return { done: false, progress: progressByStatus[status] ?? 25 };
}
