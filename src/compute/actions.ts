/** Starts and finishes actions: the handle a client waits on for every mutation that takes time. */
import type { Tx, TxHooks } from '../db/index.ts';
import { newId, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { ActionCommand, ActionTarget } from './server-status.ts';
import type { ActionRecord, ComputeStore } from './store.ts';

export type ActionOutcome = { ok: true } | { ok: false; code: string; message: string };

export function createActions(deps: { store: ComputeStore; clock: Clock; events: EventRecorder }) {
  const { store, clock } = deps;
  return {
    async start(
      tx: Tx,
      input: { projectId: string; serverId: string; command: ActionCommand; target: ActionTarget },
    ): Promise<ActionRecord> {
      const action: ActionRecord = {
        id: newId('action', clock.nowMs()),
        projectId: input.projectId,
        resourceType: 'server',
        resourceId: input.serverId,
        command: input.command,
        status: 'running',
        progress: 0,
        target: input.target,
        errorCode: null,
        errorMessage: null,
        startedAt: clock.nowIso(),
        finishedAt: null,
      };
      await store.insertAction(tx, action);
      return action;
    },

    progress: (tx: Tx, actionId: string, progress: number) => store.setActionProgress(tx, actionId, progress),

    /** Finishes a running action and records `action.finished` (nothing when it was finished already). */
    async finish(tx: Tx, hooks: TxHooks, action: ActionRecord, outcome: ActionOutcome): Promise<void> {
      if (!(await store.finishAction(tx, action.id, outcome, clock.nowIso()))) return;
      await deps.events.record(tx, hooks, {
        type: 'action.finished',
        projectId: action.projectId,
        resourceType: 'action',
        resourceId: action.id,
        data: {
          command: action.command,
          ...(action.resourceType === 'volume' ? { volume_id: action.resourceId } : { server_id: action.resourceId }),
          status: outcome.ok ? 'success' : 'error',
          ...(outcome.ok ? {} : { error: { code: outcome.code, message: outcome.message } }),
        },
      });
    },

    running: (tx: Tx, serverId: string) => store.runningActions(tx, serverId),
  };
}

export type Actions = ReturnType<typeof createActions>;
