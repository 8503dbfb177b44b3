/**
 * Actions of other resources than servers (volumes, …): the same `actions` rows, the same `GET
 * /v1/actions/{id}` and the same `action.finished` event, for a domain that owns its resource but not the
 * actions table. Its target is the domain's own (a status it waits for), stored as JSON.
 */
import type { Db, DialectName, Tx, TxHooks } from '../db/index.ts';
import { newId, type Clock } from '../core/index.ts';
import type { Action } from '../contract/index.ts';
import type { EventRecorder } from '../events/index.ts';
import { createComputeStore, type ActionRecord } from './store.ts';
import { actionView } from './views.ts';

export interface ResourceAction {
  id: string;
  projectId: string | null;
  resourceType: string;
  resourceId: string;
  command: string;
  status: Action['status'];
  progress: number;
  /** What finishes it, in the owning domain's terms. */
  target: Record<string, unknown>;
}

export type ResourceActionOutcome = { ok: true } | { ok: false; code: string; message: string };

const resourceActionOf = (record: ActionRecord): ResourceAction => ({
  id: record.id,
  projectId: record.projectId,
  resourceType: record.resourceType,
  resourceId: record.resourceId,
  command: record.command,
  status: record.status,
  progress: record.progress,
  target: record.target as unknown as Record<string, unknown>,
});

/** Where `action.finished` names the action's resource: `volume_id`, `network_id`, … (servers: `server_id`). */
const resourceIdFields: Record<
  string,
  'volume_id' | 'network_id' | 'floating_ip_id' | 'primary_ip_id' | 'custom_image_id'
> = {
  volume: 'volume_id',
  network: 'network_id',
  floating_ip: 'floating_ip_id',
  primary_ip: 'primary_ip_id',
  custom_image: 'custom_image_id',
};
const resourceIdField = (action: ResourceAction) => ({
  [resourceIdFields[action.resourceType] ?? 'server_id']: action.resourceId,
});

export function createResourceActions(deps: { db: Db; dialect: DialectName; clock: Clock; events: EventRecorder }) {
  const { clock } = deps;
  const store = createComputeStore(deps.db, deps.dialect);
  return {
    async start(
      tx: Tx,
      input: {
        projectId: string;
        resourceType: string;
        resourceId: string;
        command: string;
        target: Record<string, unknown>;
      },
    ): Promise<ResourceAction> {
      const record: ActionRecord = {
        id: newId('action', clock.nowMs()),
        projectId: input.projectId,
        resourceType: input.resourceType,
        resourceId: input.resourceId,
        command: input.command,
        status: 'running',
        progress: 0,
        target: input.target as never,
        errorCode: null,
        errorMessage: null,
        startedAt: clock.nowIso(),
        finishedAt: null,
      };
      await store.insertAction(tx, record);
      return resourceActionOf(record);
    },

    progress: (tx: Tx, actionId: string, progress: number) => store.setActionProgress(tx, actionId, progress),

    /** Finishes a running action and records `action.finished` (nothing when it was finished already). */
    async finish(tx: Tx, hooks: TxHooks, action: ResourceAction, outcome: ResourceActionOutcome): Promise<void> {
      if (!(await store.finishAction(tx, action.id, outcome, clock.nowIso()))) return;
      await deps.events.record(tx, hooks, {
        type: 'action.finished',
        projectId: action.projectId,
        resourceType: 'action',
        resourceId: action.id,
        data: {
          command: action.command,
          ...resourceIdField(action),
          status: outcome.ok ? 'success' : 'error',
          ...(outcome.ok ? {} : { error: { code: outcome.code, message: outcome.message } }),
        },
      });
    },

    /** The running actions of several resources, by resource id (oldest first). */
    async runningOf(tx: Tx | Db, resourceIds: readonly string[]): Promise<Map<string, ResourceAction[]>> {
      const out = new Map<string, ResourceAction[]>();
      for (const record of await store.runningActionsOf(tx, [...new Set(resourceIds)])) {
        const action = resourceActionOf(record);
        out.set(record.resourceId, [...(out.get(record.resourceId) ?? []), action]);
      }
      return out;
    },

    /** The running actions of a resource, oldest first. */
    async running(tx: Tx | Db, resourceId: string): Promise<ResourceAction[]> {
      return (await store.runningActions(tx, resourceId)).map(resourceActionOf);
    },

    /** The action as the API shows it. */
    async view(tx: Tx, actionId: string): Promise<Action> {
      return actionView(await store.actionById(tx, actionId));
    },
  };
}

export type ResourceActions = ReturnType<typeof createResourceActions>;
