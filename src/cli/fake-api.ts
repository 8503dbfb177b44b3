/**
 * Test helper: a real HTTP server on 127.0.0.1 (port 0) that answers with the real API's shapes (src/cli/api-types.ts)
 * from memory, so CLI tests exercise the real client, pagination and --wait polling. Actions advance by
 * `progressStep` on every GET, which makes waits deterministic without timers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Action, CustomerCapacity, Event, Host, Image, PlacementViolation, Product, Region, RegionCapacity, Server } from './api-types.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeApiOptions {
  /** Tokens that authenticate; an operator token may use operator routes. */
  token?: string;
  operatorToken?: string;
  /** Servers per page when the client sends no limit. */
  pageSize?: number;
  progressStep?: number;
  violations?: PlacementViolation[];
}

export interface FakeApi {
  url: string;
  requests: RecordedRequest[];
  servers: Server[];
  actions: Map<string, Action & { fail?: { code: string; message: string } }>;
  close(): Promise<void>;
}

export const fakeRegions: Region[] = [
  { code: 'fra1', name: 'Frankfurt', city: 'Frankfurt am Main', country: 'DE', peering: 'DE-CIX', peering_gbps: 100, status: 'operational', orderable: true, opens: null },
  { code: 'lon1', name: 'London', city: 'London', country: 'GB', peering: 'LINX', peering_gbps: 40, status: 'maintenance', orderable: false, opens: null },
  { code: 'mad1', name: 'Madrid', city: 'Madrid', country: 'ES', peering: 'ESPANIX', peering_gbps: null, status: 'planned', orderable: false, opens: '2025-Q2' },
];

export const fakeProducts: Product[] = [
  { code: 'vps-starter', name: 'VPS-STARTER', family: 'vps', vcpus: 2, memory_mib: 4096, disk_gib: 50, traffic_tib: 2, gpu: null, price: { hourly_cents: 2, monthly_cents: 999, currency: 'EUR' }, regions: ['fra1', 'lon1'] },
  { code: 'vps-enterprise-plus', name: 'VPS-ENTERPRISE+', family: 'vps', vcpus: 16, memory_mib: 65536, disk_gib: 640, traffic_tib: 20, gpu: null, price: { hourly_cents: 20, monthly_cents: 11999, currency: 'EUR' }, regions: ['fra1'] },
  { code: 'gpu-a100', name: 'GPU-A100', family: 'gpu', vcpus: 8, memory_mib: 90112, disk_gib: 800, traffic_tib: 20, gpu: { model: 'nvidia-a100-80g', count: 1 }, price: { hourly_cents: 229, monthly_cents: 149900, currency: 'EUR' }, regions: ['mad1'] },
];

export const fakeImages: Image[] = [
  { id: 'img_debian12', slug: 'debian-12', name: 'Debian 12 (bookworm)', os_family: 'debian', os_version: '12', category: 'os', requires_gpu: false, min_disk_gib: 10, status: 'available' },
  { id: 'img_pytorch', slug: 'pytorch', name: 'PyTorch on Ubuntu 24.04', os_family: 'ubuntu', os_version: '24.04', category: 'ai', requires_gpu: true, min_disk_gib: 40, status: 'available' },
];

export const fakeHost: Host = {
  id: 'host_a',
  name: 'fra1-std-01',
  region: 'fra1',
  kind: 'standard',
  state: 'active',
  health: 'up',
  driver: 'sim',
  cpu_model: 'AMD EPYC 9354',
  topology: {
    sockets: 1,
    numa_nodes: [
      { id: 0, cores: 32, threads: 64, memory_mib: 262144 },
      { id: 1, cores: 32, threads: 64, memory_mib: 262144 },
    ],
    threads: 128,
    reserved_threads: [],
    gpus: [],
    nics: [],
  },
  capacity: { vcpus: 128, memory_mib: 524288, disk_gib: 7680, gpus: 0 },
  usage: { servers: 2, vcpus: 8, memory_mib: 16384, disk_gib: 100, gpus: 0 },
  generation: 3,
  last_heartbeat_at: '2025-01-01T00:04:58.000Z',
  agent_version: 'sim',
};

const utilization = (used: number, total: number) => ({ used, total, pct: total === 0 ? 0 : Math.round((1000 * used) / total) / 10 });

export const fakeCapacity: RegionCapacity[] = [
  {
    region: 'fra1',
    hosts: 4,
    active_hosts: 3,
    compute: { ...utilization(40, 256), used_vcpus: 80, sellable_vcpus: 512 },
    memory_mib: utilization(163840, 2097152),
    disk_gib: utilization(1000, 30720),
    gpus: utilization(0, 0),
    products: [
      { product: 'vps-starter', servers: 812, servers_when_empty: 900, availability: 'available' },
      { product: 'vps-enterprise-plus', servers: 3, servers_when_empty: 48, availability: 'scarce' },
    ],
  },
  {
    region: 'mad1',
    hosts: 1,
    active_hosts: 1,
    compute: { ...utilization(48, 48), used_vcpus: 96, sellable_vcpus: 96 },
    memory_mib: utilization(737280, 737280),
    disk_gib: utilization(3200, 7680),
    gpus: utilization(4, 4),
    products: [{ product: 'gpu-a100', servers: 0, servers_when_empty: 4, availability: 'none' }],
  },
];

const problem = (res: ServerResponse, status: number, body: Record<string, unknown>) => {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: `https://docs.vmcloud.dev/errors/${String(body.code)}`, title: String(body.code), status, request_id: 'req_test', ...body }));
};

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

export async function startFakeApi(options: FakeApiOptions = {}): Promise<FakeApi> {
  const token = options.token ?? 'vmc_test_owner';
  const operatorToken = options.operatorToken ?? 'vmc_test_operator';
  const pageSize = options.pageSize ?? 100;
  const step = options.progressStep ?? 50;
  const requests: RecordedRequest[] = [];
  const servers: Server[] = [];
  const actions: FakeApi['actions'] = new Map();
  const events: Event[] = [];
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}_${String(++counter).padStart(26, '0')}`;
  const now = '2025-01-01T00:00:00.000Z';

  const newAction = (command: string, server_id: string, fail?: { code: string; message: string }) => {
    const action = { id: nextId('act'), command, status: 'running' as const, progress: 0, resource: { type: 'server', id: server_id }, error: null, started_at: now, finished_at: null, fail };
    actions.set(action.id, action);
    return action;
  };
  const publicAction = (action: Action & { fail?: unknown }): Action => {
    const { fail: _fail, ...rest } = action;
    return rest;
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return problem(res, 400, { code: 'invalid', detail: 'body is not JSON' });
      }
    }
    const method = req.method ?? 'GET';
    requests.push({ method, path: url.pathname, query: url.searchParams, headers: req.headers, body });

    const auth = req.headers.authorization;
    const isOperator = auth === `Bearer ${operatorToken}`;
    if (auth !== `Bearer ${token}` && !isOperator) return problem(res, 401, { code: 'unauthenticated', detail: 'the API token is not valid' });
    if (method === 'POST' && !req.headers['idempotency-key']) return problem(res, 400, { code: 'invalid', detail: 'Idempotency-Key header is required' });

    const parts = url.pathname.split('/').filter(Boolean);
    const route = url.pathname.startsWith('/v1/admin/')
      ? `${method} ${url.pathname}`
      : `${method} /${parts.map((p, i) => (i >= 2 && i % 2 === 0 ? ':id' : p)).join('/')}`;
    const b = (body ?? {}) as Record<string, unknown>;
    const findServer = (id: string) => servers.find((s) => s.id === id && s.status !== 'deleted');

    switch (route) {
      case 'GET /v1/project':
        if (isOperator) return problem(res, 403, { code: 'forbidden', detail: 'operator tokens have no project' });
        return json(res, 200, { project: { id: 'prj_test', name: 'acme', role: 'owner', quotas: { servers: 50, vcpus: 200, gpus: 4 }, usage: { servers: servers.length, vcpus: 2 * servers.length, gpus: 0 }, created_at: now } });
      case 'GET /v1/regions':
        return json(res, 200, { regions: fakeRegions });
      case 'GET /v1/products':
        return json(res, 200, { products: fakeProducts });
      case 'GET /v1/images':
        return json(res, 200, { images: fakeImages });
      case 'POST /v1/servers': {
        const product = fakeProducts.find((p) => p.code === b.product);
        if (!product) return problem(res, 400, { code: 'invalid', reason: 'unknown_product', detail: `unknown product ${String(b.product)}`, errors: [{ field: 'product', message: `unknown product ${String(b.product)}` }] });
        if (b.region === 'lon1') return problem(res, 409, { code: 'conflict', reason: 'region_in_maintenance', detail: 'region LON1 is in maintenance and takes no new servers; existing servers keep running' });
        if (product.code === 'vps-enterprise-plus') {
          return problem(res, 409, {
            code: 'conflict',
            reason: 'no_capacity',
            detail: 'no host in FRA1 has 16 free cores in one NUMA node (3 hosts lack cores, 1 is draining)',
            placement: {
              region: 'fra1',
              hosts_considered: 4,
              rejections: [
                { filter: 'numa_cores', hosts: 3, reason: 'lack 16 free cores in one NUMA node' },
                { filter: 'host_state', hosts: 1, reason: 'draining' },
              ],
              largest_available: { vcpus: 8, memory_mib: 32768, gpus: 0 },
              message: 'no host in FRA1 has 16 free cores in one NUMA node (3 hosts lack cores, 1 is draining)',
            },
          });
        }
        const created: Server = {
          id: nextId('srv'),
          name: String(b.name),
          project_id: 'prj_test',
          region: String(b.region),
          product: product.code,
          image: String(b.image),
          status: 'starting',
          desired_state: 'running',
          labels: (b.labels as Record<string, string>) ?? {},
          ipv4: null,
          placement: { numa_nodes: [0], gpus: [] },
          error: null,
          created_at: now,
          updated_at: now,
        };
        servers.push(created);
        events.push({ seq: events.length + 1, id: nextId('event'), at: now, type: 'server.created', project_id: 'prj_test', resource: { type: 'server', id: created.id }, data: { name: created.name, product: created.product, region: created.region } });
        const fail = created.name.startsWith('fail-') ? { code: 'internal', message: 'the host agent reported a boot failure' } : undefined;
        return json(res, 202, { server: created, action: publicAction(newAction('create', created.id, fail)) });
      }
      case 'GET /v1/servers': {
        let list = servers.filter((s) => s.status !== 'deleted');
        const name = url.searchParams.get('name');
        if (name) list = list.filter((s) => s.name === name);
        const region = url.searchParams.get('region');
        if (region) list = list.filter((s) => s.region === region);
        const selector = url.searchParams.get('label_selector');
        if (selector) {
          const wanted = selector.split(',').map((kv) => kv.split('='));
          list = list.filter((s) => wanted.every(([k, v]) => s.labels[k] === v));
        }
        const limit = Number(url.searchParams.get('limit') ?? pageSize);
        const cursor = url.searchParams.get('cursor');
        const start = cursor ? list.findIndex((s) => s.id === cursor) + 1 : 0;
        const page = list.slice(start, start + limit);
        const more = start + limit < list.length;
        return json(res, 200, { servers: page, next_cursor: more ? page[page.length - 1].id : null });
      }
      case 'GET /v1/servers/:id': {
        const found = findServer(parts[2]);
        if (!found) return problem(res, 404, { code: 'not_found', detail: `server ${parts[2]} was not found` });
        return json(res, 200, { server: found });
      }
      case 'POST /v1/servers/:id/actions/:id': {
        const found = findServer(parts[2]);
        if (!found) return problem(res, 404, { code: 'not_found', detail: `server ${parts[2]} was not found` });
        const verb = parts[4];
        if (verb === 'start' && found.status === 'running') return problem(res, 409, { code: 'conflict', reason: 'invalid_state', detail: `server ${found.name} is already running` });
        return json(res, 202, { action: publicAction(newAction(verb, found.id)) });
      }
      case 'DELETE /v1/servers/:id': {
        const found = findServer(parts[2]);
        if (!found) return problem(res, 404, { code: 'not_found', detail: `server ${parts[2]} was not found` });
        return json(res, 202, { action: publicAction(newAction('delete', found.id)) });
      }
      case 'GET /v1/actions/:id': {
        const action = actions.get(parts[2]);
        if (!action) return problem(res, 404, { code: 'not_found', detail: `action ${parts[2]} was not found` });
        if (action.status === 'running') {
          action.progress = Math.min(100, action.progress + step);
          if (action.progress >= 100) {
            action.finished_at = now;
            if (action.fail) {
              action.status = 'error';
              action.error = action.fail;
            } else {
              action.status = 'success';
              const target = servers.find((s) => s.id === action.resource.id);
              if (target) {
                const after: Record<string, string> = { create: 'running', start: 'running', reboot: 'running', stop: 'stopped', delete: 'deleted' };
                target.status = after[action.command] ?? target.status;
                if (action.command === 'create') target.ipv4 = '192.0.2.10';
              }
            }
          }
        }
        return json(res, 200, { action: publicAction(action) });
      }
      case 'PATCH /v1/regions/:id': {
        if (!isOperator) return problem(res, 403, { code: 'forbidden', detail: 'operator route' });
        const region = fakeRegions.find((r) => r.code === parts[2]);
        if (!region) return problem(res, 404, { code: 'not_found', detail: `region ${parts[2]} was not found` });
        return json(res, 200, { region: { ...region, status: b.status, orderable: b.status === 'operational' } });
      }
      case 'GET /v1/hosts':
        if (!isOperator) return problem(res, 403, { code: 'forbidden', detail: 'operator route' });
        return json(res, 200, { hosts: [fakeHost] });
      case 'GET /v1/hosts/:id':
        if (!isOperator) return problem(res, 403, { code: 'forbidden', detail: 'operator route' });
        if (parts[2] !== fakeHost.id) return problem(res, 404, { code: 'not_found', detail: `host ${parts[2]} was not found` });
        return json(res, 200, { host: fakeHost });
      case 'GET /v1/events': {
        const after = Number(url.searchParams.get('after') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 100);
        const types = url.searchParams.get('type')?.split(',');
        const page = events.filter((e) => e.seq > after && (!types || types.includes(e.type))).slice(0, limit);
        return json(res, 200, { events: page, last: page.length > 0 ? page[page.length - 1].seq : after });
      }
      case 'PATCH /v1/hosts/:id':
        if (!isOperator) return problem(res, 403, { code: 'forbidden', detail: 'operator route' });
        if (parts[2] !== fakeHost.id) return problem(res, 404, { code: 'not_found', detail: `host ${parts[2]} was not found` });
        return json(res, 200, { host: { ...fakeHost, state: b.state } });
      case 'GET /v1/admin/audit-placement':
        if (!isOperator) return problem(res, 403, { code: 'forbidden', detail: 'operator route' });
        return json(res, 200, { hosts: 1, allocations: servers.length, violations: options.violations ?? [] });
      case 'GET /v1/capacity': {
        const region = url.searchParams.get('region');
        const report = fakeCapacity.filter((r) => !region || r.region === region);
        if (isOperator) return json(res, 200, { capacity: report });
        const customer: CustomerCapacity[] = report.map((r) => ({
          region: r.region,
          orderable: r.region === 'fra1',
          products: r.products.map((p) => ({ product: p.product, availability: r.region === 'fra1' ? p.availability : 'none' })),
        }));
        return json(res, 200, { capacity: customer });
      }
      case 'POST /v1/tokens':
        return json(res, 201, { token: { id: 'tok_1', kind: 'project', name: b.name, role: b.role, project_id: 'prj_test', prefix: 'vmc_abcd', expires_at: null, last_used_at: null, created_at: now }, secret: 'vmc_new_secret' });
      case 'POST /v1/host-tokens':
        if (!isOperator) return problem(res, 403, { code: 'forbidden', detail: 'this route needs an operator token' });
        return json(res, 201, { token: { id: 'tok_2', kind: 'host', name: b.name, role: 'host', project_id: null, prefix: 'vmc_efgh', expires_at: null, last_used_at: null, created_at: now }, secret: 'vmc_host_secret' });
      default:
        return problem(res, 404, { code: 'not_found', detail: `no route ${method} ${url.pathname}` });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    servers,
    actions,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A CliIo that records what the CLI writes; `sleep` returns at once so --wait polls without timers. */
export function captureIo(env: Record<string, string | undefined>, options: { isTTY?: boolean; cwd?: string } = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    io: {
      stdout: { write: (chunk: string) => stdout.push(chunk) },
      stderr: { write: (chunk: string) => stderr.push(chunk) },
      env,
      isTTY: options.isTTY ?? false,
      sleep: async () => {},
      now: () => Date.parse('2025-01-01T00:05:00.000Z'),
      cwd: options.cwd,
    },
    stdout: () => stdout.join(''),
    stderr: () => stderr.join(''),
  };
}
