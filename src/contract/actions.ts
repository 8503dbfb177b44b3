/** Actions: the handle a client waits on for every mutation that takes time (202 + action). */
import { Type, type Static } from 'typebox';
import { IdParams, NullableTimestamp, Timestamp } from './common.ts';
import { defineOperation } from './operation.ts';

export const ActionStatus = Type.Union([Type.Literal('running'), Type.Literal('success'), Type.Literal('error')]);
export type ActionStatus = Static<typeof ActionStatus>;

export const Action = Type.Object({
  id: Type.String({ description: 'act_…' }),
  command: Type.String({ description: 'create | start | stop | reboot | delete | migrate | …' }),
  status: ActionStatus,
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  resource: Type.Object({ type: Type.String(), id: Type.String() }),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  started_at: Timestamp,
  finished_at: NullableTimestamp,
});
export type Action = Static<typeof Action>;

export const ActionAccepted = Type.Object({ action: Action });
export type ActionAccepted = Static<typeof ActionAccepted>;

export const getAction = defineOperation({
  operationId: 'getAction',
  method: 'GET',
  path: '/v1/actions/:id',
  tags: ['actions'],
  summary: 'Show an action',
  auth: 'project',
  params: IdParams,
  status: 200,
  response: Type.Object({ action: Action }),
});

export const actionOperations = { getAction };
