/** Projects: the tenant unit; quotas and their usage. */
import { Type, type Static } from 'typebox';
import { CursorQuery, IdParams, LimitQuery, NextCursor, Timestamp, plainTextPattern } from './common.ts';
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

/** A project as operators see it: its owners and member count beside its quotas and usage. */
export const OperatorProject = Type.Object({
  id: Type.String({ description: 'prj_…' }),
  name: Type.String(),
  owners: Type.Array(Type.Object({ user_id: Type.String(), email: Type.String() }), {
    description: 'its owners, oldest first',
  }),
  members: Type.Integer({ description: 'its members of every role' }),
  quotas: ProjectCounts,
  usage: ProjectCounts,
  created_at: Timestamp,
});
export type OperatorProject = Static<typeof OperatorProject>;

export const OperatorProjectList = Type.Object({ projects: Type.Array(OperatorProject), next_cursor: NextCursor });
export type OperatorProjectList = Static<typeof OperatorProjectList>;

export const ListProjectsQuery = Type.Object(
  {
    limit: Type.Optional(LimitQuery),
    cursor: Type.Optional(CursorQuery),
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'projects whose name contains this (any case)' }),
    ),
  },
  { additionalProperties: false },
);
export type ListProjectsQuery = Static<typeof ListProjectsQuery>;

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
  description:
    'The owner is the user of `owner_email` (created when new). The answer holds the owner token’s secret, shown once. Event `project.created`.',
  auth: 'operator',
  body: CreateProjectBody,
  status: 201,
  response: ProjectCreated,
  resource: 'project',
});

export const listProjects = defineOperation({
  operationId: 'listProjects',
  method: 'GET',
  path: '/v1/projects',
  tags: ['operators'],
  summary: 'Every project with its owners, quotas and usage, oldest first (operators)',
  description: '`name` keeps the projects whose name contains it, in any case; keyset pages (`next_cursor`).',
  auth: 'operator',
  query: ListProjectsQuery,
  status: 200,
  response: OperatorProjectList,
});

export const getOperatorProject = defineOperation({
  operationId: 'getOperatorProject',
  method: 'GET',
  path: '/v1/projects/:id',
  tags: ['operators'],
  summary: 'One project with its owners, quotas and usage (operators)',
  auth: 'operator',
  params: IdParams,
  status: 200,
  response: Type.Object({ project: OperatorProject }),
});

export const setProjectQuotas = defineOperation({
  operationId: 'setProjectQuotas',
  method: 'PATCH',
  path: '/v1/projects/:id/quotas',
  tags: ['operators'],
  summary: 'Set project quotas (operators)',
  description:
    'Only the quotas given change; a quota below the current usage is allowed (nothing is taken away, new resources are refused). Event `project.quotas_changed`.',
  auth: 'operator',
  params: IdParams,
  body: QuotasPatch,
  status: 200,
  response: Type.Object({ quotas: ProjectCounts }),
  resource: 'project',
});

export const projectOperations = { getProject, createProject, listProjects, getOperatorProject, setProjectQuotas };
