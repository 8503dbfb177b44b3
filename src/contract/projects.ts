/** Projects: the tenant unit; quotas and their usage. */
import { Type, type Static } from 'typebox';
import { IdParams, Timestamp, plainTextPattern } from './common.ts';
import { Token } from './tokens.ts';
import { defineOperation } from './operation.ts';

export const ProjectRole = Type.Union([Type.Literal('owner'), Type.Literal('member'), Type.Literal('viewer')]);
export type ProjectRole = Static<typeof ProjectRole>;

export const ProjectCounts = Type.Object({
  servers: Type.Integer(),
  vcpus: Type.Integer(),
  gpus: Type.Integer(),
  volumes: Type.Integer(),
  volume_gib: Type.Integer({ description: 'GiB over all volumes' }),
  custom_images: Type.Integer({ description: 'custom images made from servers (not deleted)' }),
});
export type ProjectCounts = Static<typeof ProjectCounts>;

export const Project = Type.Object({
  id: Type.String({ description: 'prj_…' }),
  name: Type.String(),
  role: ProjectRole,
  quotas: ProjectCounts,
  usage: ProjectCounts,
  created_at: Timestamp,
});
export type Project = Static<typeof Project>;

const QuotaValue = Type.Integer({ minimum: 0, maximum: 1_000_000 });
export const QuotasPatch = Type.Object(
  {
    servers: Type.Optional(QuotaValue),
    vcpus: Type.Optional(QuotaValue),
    gpus: Type.Optional(QuotaValue),
    volumes: Type.Optional(QuotaValue),
    volume_gib: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
    custom_images: Type.Optional(QuotaValue),
  },
  { additionalProperties: false },
);
export type QuotasPatch = Static<typeof QuotasPatch>;

export const CreateProjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: plainTextPattern }),
    owner_email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }),
    quotas: Type.Optional(QuotasPatch),
  },
  { additionalProperties: false },
);
export type CreateProjectBody = Static<typeof CreateProjectBody>;

export const ProjectCreated = Type.Object({ project_id: Type.String(), token: Token, secret: Type.String() });
export type ProjectCreated = Static<typeof ProjectCreated>;

export const getProject = defineOperation({
  operationId: 'getProject',
  method: 'GET',
  path: '/v1/project',
  tags: ['identity'],
  summary: 'The project of this token, its quotas and usage',
  auth: 'project',
  status: 200,
  response: Type.Object({ project: Project }),
});

export const createProject = defineOperation({
  operationId: 'createProject',
  method: 'POST',
  path: '/v1/projects',
  tags: ['operators'],
  summary: 'Create a project with its owner token (operators)',
  auth: 'operator',
  body: CreateProjectBody,
  status: 201,
  response: ProjectCreated,
  resource: 'project',
});

export const setProjectQuotas = defineOperation({
  operationId: 'setProjectQuotas',
  method: 'PATCH',
  path: '/v1/projects/:id/quotas',
  tags: ['operators'],
  summary: 'Set project quotas (operators)',
  auth: 'operator',
  params: IdParams,
  body: QuotasPatch,
  status: 200,
  response: Type.Object({ quotas: ProjectCounts }),
  resource: 'project',
});

export const projectOperations = { getProject, createProject, setProjectQuotas };
