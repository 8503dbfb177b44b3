/**
 * Compile-time tests of `EventRecorder.record` (checked by `npm run typecheck`, never run): each
 * `@ts-expect-error` line must fail to type-check, or tsc reports the directive as unused.
 */
import type { EventRecorder } from './record.ts';
import type { EventType } from '../contract/events.ts';

export async function recordTypeChecks(r: EventRecorder, tx: Parameters<EventRecorder['record']>[0], wide: EventType) {
  const hooks = { afterCommit: () => {}, afterRollback: () => {} };
  const s = { projectId: null, resourceType: 'server', resourceId: 'srv_1' };
  const created = { name: 'a', product: 'p', region: 'r', host_id: 'h', action_id: 'act_1' };
  await r.record(tx, hooks, { ...s, type: 'server.created', data: created });
  await r.record(tx, hooks, { ...s, type: 'host.up' });
  await r.record(tx, hooks, { ...s, type: 'token.revoked', data: { kind: 'project' } });
  await r.record(tx, hooks, {
    ...s,
    type: 'server.error',
    data: { from: 'running', to: 'error', detail: 'qemu died' },
  });
  // A caller holding a union of types is not checked (compute's recordServerEvent, host-sync's eventOfStatus).
  await r.record(tx, hooks, { ...s, type: wide, data: { anything: 1 } });
  // @ts-expect-error a required field is missing
  await r.record(tx, hooks, { ...s, type: 'server.created', data: { ...created, action_id: undefined } });
  // @ts-expect-error a field has the wrong type
  await r.record(tx, hooks, { ...s, type: 'host.down', data: { stale_after_ms: 'soon' } });
  // @ts-expect-error the payload has required fields: data is required
  await r.record(tx, hooks, { ...s, type: 'host.down' });
  // @ts-expect-error a field the payload does not have
  await r.record(tx, hooks, { ...s, type: 'host.state_changed', data: { from: 'a', to: 'b', extra: 1 } });
  // @ts-expect-error an event type that does not exist
  await r.record(tx, hooks, { ...s, type: 'server.exploded' });
}
