/** Regions: where servers run, and whether they can be ordered now. */
import { Type, type Static } from 'typebox';
import { Literals, Nullable } from './common.ts';
import { defineOperation } from './operation.ts';

export const regionStatuses = ['operational', 'maintenance', 'planned'] as const;
export const RegionStatus = Literals(regionStatuses);
export type RegionStatus = (typeof regionStatuses)[number];

export const Region = Type.Object({
  code: Type.String({ description: 'e.g. fra1' }),
  name: Type.String(),
  city: Type.String(),
  country: Type.String({ description: 'ISO 3166-1 alpha-2' }),
  peering: Type.String(),
  peering_gbps: Nullable(Type.Integer()),
  status: RegionStatus,
  orderable: Type.Boolean({ description: 'whether new servers can be ordered here now' }),
  opens: Nullable(Type.String({ description: 'when a planned region opens' })),
});
export type Region = Static<typeof Region>;

export const RegionParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) });
export const RegionEnvelope = Type.Object({ region: Region });
export const SetRegionStatusBody = Type.Object({ status: RegionStatus }, { additionalProperties: false });
export type SetRegionStatusBody = Static<typeof SetRegionStatusBody>;

export const listRegions = defineOperation({
  operationId: 'listRegions',
  method: 'GET',
  path: '/v1/regions',
  tags: ['catalog'],
  summary: 'List regions',
  auth: 'any',
  status: 200,
  response: Type.Object({ regions: Type.Array(Region) }),
});

export const getRegion = defineOperation({
  operationId: 'getRegion',
  method: 'GET',
  path: '/v1/regions/:code',
  tags: ['catalog'],
  summary: 'Show a region',
  auth: 'any',
  params: RegionParams,
  status: 200,
  response: RegionEnvelope,
});

export const setRegionStatus = defineOperation({
  operationId: 'setRegionStatus',
  method: 'PATCH',
  path: '/v1/regions/:code',
  tags: ['operators'],
  summary: 'Change a region status (operators)',
  description: 'maintenance: no new servers, existing ones keep running; planned: not orderable.',
  auth: 'operator',
  params: RegionParams,
  body: SetRegionStatusBody,
  status: 200,
  response: RegionEnvelope,
  resource: 'region',
});

export const regionOperations = { listRegions, getRegion, setRegionStatus };
