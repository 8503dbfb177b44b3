/** A volume's status from what is wanted and what its host reports, and whether that ends an action. Pure. */
import type { ObservedVolume, VolumeStatus } from '../contract/index.ts';
import type { VolumeDesiredState } from './store.ts';

export interface VolumeStatusInputs {
  desired: VolumeDesiredState;
  sizeGiB: number;
  /** The server it should be attached to; null: detached. */
  serverId: string | null;
  /** Whether it has a host (a local volume created detached has none until its first attach). */
  placed: boolean;
  /** What its host reports; null when the host has no such volume. */
  observed: ObservedVolume | null;
}

export function deriveVolumeStatus(input: VolumeStatusInputs): VolumeStatus {
  const { observed } = input;
  if (input.desired === 'deleted') return observed === null ? 'deleted' : 'deleting';
  if (!input.placed) return 'available';
  if (observed?.state === 'failed') return 'error';
  if (observed === null) return 'creating';
  if (observed.serverId !== null && observed.serverId !== input.serverId) return 'detaching';
  if (observed.sizeGiB < input.sizeGiB) return 'resizing';
  if (input.serverId !== null && observed.serverId === null) return 'attaching';
  return input.serverId === null ? 'available' : 'attached';
}

/** What finishes a volume's action: a status, and for a resize the size the host must report. */
export interface VolumeActionTarget {
  status: VolumeStatus;
  sizeGiB?: number;
}

export type VolumeActionVerdict =
  | { done: false; progress: number }
  | { done: true; ok: true }
  | { done: true; ok: false; code: string; message: string };

const progressOf: Partial<Record<VolumeStatus, number>> = {
  creating: 20,
  attaching: 50,
  detaching: 50,
  resizing: 50,
  deleting: 50,
};

export function judgeVolumeAction(
  target: VolumeActionTarget,
  status: VolumeStatus,
  observedSizeGiB: number,
  errorDetail: string | null,
): VolumeActionVerdict {
  if (status === target.status && (target.sizeGiB === undefined || observedSizeGiB >= target.sizeGiB))
    return { done: true, ok: true };
  if (status === 'error')
    return { done: true, ok: false, code: 'volume_error', message: errorDetail ?? 'the host could not do it' };
  if (status === 'deleted' && target.status !== 'deleted')
    return {
      done: true,
      ok: false,
      code: 'volume_deleted',
      message: 'the volume was deleted before the action finished',
    };
  return { done: false, progress: progressOf[status] ?? 25 };
}
