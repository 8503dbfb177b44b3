import type { Tx, TxHooks, ActionsTable } from '../db/index.ts';
import { newId, type Clock } from '../core/index.ts';
import type { EventRecorder } from '../events/index.ts';
import type { ActionCommand, ActionTarget } from './server-status.ts';

/** Writes and finishes actions: the handle a client waits on for every mutation that takes time. */
export function createActionStore(deps: { clock: Clock; events: EventRecorder }) {
  const { clock } = deps;
  return {
    async start(tx: Tx, input: { projectId: string; serverId: string; command: ActionCommand; target: ActionTarget }): Promise<ActionsTable> {
      const row: ActionsTable = {
        id: newId('action', clock.nowMs()),
        project_id: input.projectId,
        resource_type: 'server',
        resource_id: input.serverId,
        command: input.command,
        status: 'running',
        progress: 0,
        target_json: JSON.stringify(input.target),
        error_code: null,
        error_message: null,
        started_at: clock.nowIso(),
        finished_at: null,
      };
      await tx.insertInto('actions').values(row).execute();
      return row;
    },

    async progress(tx: Tx, actionId: string, progress: number): Promise<void> {
      await tx.updateTable('actions').set({ progress }).where('id', '=', actionId).where('status', '=', 'running').execute();
    },

    async finish(tx: Tx, hooks: TxHooks, action: ActionsTable, outcome: { ok: true } | { ok: false; code: string; message: string }): Promise<void> {
      const finishedAt = clock.nowIso();
      await tx
        .updateTable('actions')
        .set(outcome.ok ? { status: 'success', progress: 100, finished_at: finishedAt } : { status: 'error', error_code: outcome.code, error_message: outcome.message, finished_at: finishedAt })
        .where('id', '=', action.id)
        .where('status', '=', 'running')
        .execute();
      await deps.events.record(tx, hooks, {
        type: 'action.finished',
        projectId: action.project_id,
        resourceType: 'action',
        resourceId: action.id,
        data: { command: action.command, server_id: action.resource_id, status: outcome.ok ? 'success' : 'error', ...(outcome.ok ? {} : { error: outcome }) },
      });
    },

    async running(tx: Tx, serverId: string): Promise<ActionsTable[]> {
      return tx.selectFrom('actions').selectAll().where('resource_id', '=', serverId).where('status', '=', 'running').orderBy('id').execute();
    },
  };
}

export type ActionStore = ReturnType<typeof createActionStore>;
