import { Type } from 'typebox';

/** TypeBox schemas of the REST API: request validation and the OpenAPI document come from these. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    reason: Type.Optional(Type.String()),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, description: 'RFC 9457 problem document' },
);

export const errorResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  422: Problem,
  429: Problem,
  503: Problem,
};

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const Region = Type.Object({
  code: Type.String(),
  name: Type.String(),
  city: Type.String(),
  country: Type.String(),
  peering: Type.String(),
  peering_gbps: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.Union([Type.Literal('operational'), Type.Literal('maintenance'), Type.Literal('planned')]),
  orderable: Type.Boolean(),
  opens: Type.Union([Type.String(), Type.Null()]),
});

export const Product = Type.Object({
  code: Type.String(),
  name: Type.String(),
  family: Type.Union([Type.Literal('vps'), Type.Literal('gpu')]),
  vcpus: Type.Integer(),
  memory_mib: Type.Integer(),
  disk_gib: Type.Integer(),
  traffic_tib: Type.Integer(),
  gpu: Type.Union([Type.Object({ model: Type.String(), count: Type.Integer() }), Type.Null()]),
  price: Type.Object({ hourly_cents: Type.Integer(), monthly_cents: Type.Integer(), currency: Type.Literal('EUR') }),
  regions: Type.Array(Type.String()),
});

export const Image = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  os_family: Type.String(),
  os_version: Type.String(),
  category: Type.String(),
  requires_gpu: Type.Boolean(),
  min_disk_gib: Type.Integer(),
  status: Type.String(),
});

export const Labels = Type.Record(Type.String(), Type.String(), { description: 'Kubernetes-style labels' });

export const Server = Type.Object({
  id: Type.String(),
  name: Type.String(),
  project_id: Type.String(),
  region: Type.String(),
  product: Type.String(),
  image: Type.String(),
  status: Type.String({ description: 'pending | starting | running | stopping | stopped | rebooting | deleting | deleted | error | unknown' }),
  desired_state: Type.String(),
  labels: Labels,
  ipv4: Type.Union([Type.String(), Type.Null()]),
  placement: Type.Union([Type.Object({ numa_nodes: Type.Array(Type.Integer()), gpus: Type.Array(Type.String()) }), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const Action = Type.Object({
  id: Type.String(),
  command: Type.String(),
  status: Type.Union([Type.Literal('running'), Type.Literal('success'), Type.Literal('error')]),
  progress: Type.Integer(),
  resource: Type.Object({ type: Type.String(), id: Type.String() }),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  started_at: Type.String(),
  finished_at: Type.Union([Type.String(), Type.Null()]),
});

export const CreateServerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63, description: 'Hostname: letters, digits, hyphens' }),
    product: Type.String({ minLength: 1, maxLength: 64, description: 'Product code, e.g. vps-starter' }),
    region: Type.String({ minLength: 1, maxLength: 16, description: 'Region code, e.g. fra1' }),
    image: Type.String({ minLength: 1, maxLength: 128, description: 'Image slug or id, e.g. debian-12' }),
    labels: Type.Optional(Labels),
    ssh_keys: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 10 })),
    user_data: Type.Optional(Type.Union([Type.String({ maxLength: 32768 }), Type.Null()])),
    placement_group: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);

export const UpdateServerBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);

export const StopBody = Type.Union([Type.Object({ force: Type.Optional(Type.Boolean()) }, { additionalProperties: false }), Type.Null()]);

export const ListServersQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    label_selector: Type.Optional(Type.String({ maxLength: 2000 })),
    name: Type.Optional(Type.String({ maxLength: 63 })),
    region: Type.Optional(Type.String({ maxLength: 16 })),
    status: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);

export const Token = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  role: Type.String(),
  project_id: Type.Union([Type.String(), Type.Null()]),
  prefix: Type.String(),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});
