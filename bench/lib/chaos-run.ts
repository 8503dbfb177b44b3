/**
 * The chaos run behind `npm run chaos` and test/chaos.test.ts: `vmcloud serve` replicas as real processes
 * on one database, clients creating, starting, stopping and deleting servers with Idempotency-Keys and
 * retries, and a killer that SIGKILLs a random replica at random moments and starts it again. At the end
 * the workload stops, everything is given time to converge, and the invariants are counted:
 *
 * - `lost`: servers a client got a 202 for (and did not delete) that do not exist;
 * - `duplicated`: more than one server for one Idempotency-Key (each key creates a server of its own name);
 * - `oversold`: violations the placement audit finds (a thread, GPU, VF or memory claimed twice or beyond);
 * - `unconverged`: servers whose status is not their desired state once the settle time is over;
 * - `stuck_actions`: actions the clients were given that still run once the settle time is over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServeProcess, stopProcess, readCliConfig, type ServeProcess } from '../../test/serve-process.ts';
import { createBenchDatabase, type BenchDatabase } from './api-database.ts';

export interface ChaosOptions {
  trials: number;
  /** postgres://… (admin URL: a fresh database is made next to it and dropped), or undefined for SQLite. */
  postgresUrl?: string;
  replicas: number;
  concurrency: number;
  /** Time between a kill and the next one, drawn uniformly in this range. */
  killEveryMs: [number, number];
  /** How long a killed replica stays down before it is started again. */
  downMs: [number, number];
  /** The longest the end may wait for convergence. */
  settleTimeoutMs: number;
  /** Simulated boot/stop delays are divided by this (serve --sim-speed). */
  simSpeed: number;
  /**
   * The longest the whole run may take. Past it the run stops where it is, kills every replica and throws
   * an error naming the phase it was in and the replicas' last output: a hung run ends, with evidence.
   */
  deadlineMs?: number;
  random?: () => number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  db: 'sqlite' | 'postgres';
  replicas: number;
  trials: number;
  kills: number;
  requests: number;
  retries: number;
  created: number;
  lost: number;
  duplicated: number;
  oversold: number;
  unconverged: number;
  stuck_actions: number;
  settleMs: number;
  /** A few examples of each non-zero count, to start the investigation from. */
  examples: Record<string, unknown[]>;
}

interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

interface Replica {
  index: number;
  serve: ServeProcess | null;
  url: string | null;
  /** The arguments it runs with: the same at each restart (the same data dir and database). */
  args: string[];
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

class ChaosDeadlineError extends Error {}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => undefined);
  const between = ([low, high]: [number, number]) => low + random() * (high - low);
  const workDir = mkdtempSync(join(tmpdir(), 'vmcloud-chaos-'));
  const db = options.postgresUrl ? 'postgres' : 'sqlite';
  if (db === 'sqlite' && options.replicas !== 1) throw new Error('SQLite runs one replica (one writer process)');
  let database: BenchDatabase | undefined;
  const replicas: Replica[] = [];
  /** Every serve process this run started, alive or not: the end kills whatever still runs. */
  const children: ServeProcess[] = [];
  const deadline = new AbortController();
  let phase = 'starting the replicas';
  let busyCalls = (): string[] => [];
  // What was under way when the deadline passed (the calls unwind right after).
  let busyAtDeadline: string[] = [];
  const deadlineTimer = options.deadlineMs
    ? setTimeout(() => {
        busyAtDeadline = busyCalls();
        deadline.abort();
      }, options.deadlineMs)
    : undefined;
  const checkDeadline = () => {
    if (deadline.signal.aborted)
      throw new ChaosDeadlineError(`the chaos run passed its ${options.deadlineMs} ms deadline`);
  };
  const configPath = join(workDir, 'config.json');
  // Replicas share the data dir: its key file holds the key-encryption keys every replica needs.
  const env = (_index: number): NodeJS.ProcessEnv => ({
    VMCLOUD_DATA_DIR: join(workDir, 'data'),
    VMCLOUD_CONFIG: configPath,
    PORT: '0',
    DATABASE_URL: database?.url,
  });

  const start = async (replica: Replica) => {
    checkDeadline();
    replica.serve = await startServeProcess(replica.args, env(replica.index), 120_000);
    children.push(replica.serve);
    replica.url = replica.serve.url;
  };

  try {
    if (options.postgresUrl) database = await createBenchDatabase(options.postgresUrl);
    const baseArgs = [
      '--port',
      '0',
      '--rate-limit',
      '0',
      '--log-level',
      'error',
      '--sim-speed',
      String(options.simSpeed),
    ];
    for (let index = 0; index < options.replicas; index++)
      replicas.push({ index, serve: null, url: null, args: baseArgs });
    // The first one bootstraps (the tokens land in the config file); the others join the same database.
    await start(replicas[0]);
    await Promise.all(replicas.slice(1).map(start));
    const profiles = readCliConfig(configPath).profiles;
    const owner = profiles.default.token!;
    const operator = profiles.operator.token!;

    const live = () => replicas.filter((r) => r.url !== null);
    let stopping = false;
    let requests = 0;
    let retries = 0;
    /** The calls under way and their last outcome: what a run past its deadline was waiting for. */
    const busy = new Map<number, string>();
    let callSerial = 0;
    busyCalls = () => [...busy.values()];
    /**
     * One request, retried on another live replica while the answer is lost or a 5xx (same key). A call
     * of the workload gives up once the workload stops (status 0): nothing counts an unanswered request.
     */
    const call = async (
      method: string,
      path: string,
      token: string,
      body?: unknown,
      idempotencyKey?: string,
      workload = false,
    ): Promise<ApiAnswer> => {
      const id = callSerial++;
      try {
        return await attempts(id, method, path, token, body, idempotencyKey, workload);
      } finally {
        busy.delete(id);
      }
    };
    const attempts = async (
      id: number,
      method: string,
      path: string,
      token: string,
      body: unknown,
      idempotencyKey: string | undefined,
      workload: boolean,
    ): Promise<ApiAnswer> => {
      let last = 'not sent yet';
      for (let attempt = 0; ; attempt++) {
        checkDeadline();
        if (workload && stopping && attempt > 0) return { status: 0, body: null };
        busy.set(id, `${method} ${path} attempt ${attempt + 1} (before: ${last})`);
        const candidates = live();
        const replica = candidates[Math.floor(random() * candidates.length)];
        requests++;
        try {
          if (!replica) throw new Error('no live replica');
          const response = await fetch(replica.url + path, {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.any([AbortSignal.timeout(30_000), deadline.signal]),
          });
          const text = await response.text();
          const answer = { status: response.status, body: text ? JSON.parse(text) : null };
          // 5xx: the replica died mid-request or the database went away; 409 idempotency_key_in_use: the
          // first attempt of this key is still running somewhere. Both are retried with the same key.
          const retryable =
            answer.status >= 500 || (answer.status === 409 && answer.body?.reason === 'idempotency_key_in_use');
          if (!retryable) return answer;
          if (attempt >= 200) return answer;
          last = `${answer.status} ${answer.body?.reason ?? ''}`;
        } catch (error) {
          checkDeadline();
          if (attempt >= 200) throw error;
          last = error instanceof Error ? error.message : String(error);
        }
        retries++;
        await sleep(Math.min(1000, 20 * 2 ** Math.min(attempt, 6)) * (0.5 + random()), deadline.signal);
      }
    };

    const project = await call('GET', '/v1/project', owner);
    const raised = await call('PATCH', `/v1/projects/${project.body.project.id}/quotas`, operator, {
      servers: 1_000_000,
      vcpus: 1_000_000,
      gpus: 1_000_000,
    });
    if (raised.status !== 200) throw new Error(`raising the quotas failed: ${JSON.stringify(raised.body)}`);

    // ---- the workload ----
    phase = 'the workload';
    const run = randomBytes(3).toString('hex');
    /** Servers a client got a 202 for, by id: its name and whether the client deleted it since. */
    const told = new Map<string, { name: string; deleted: boolean }>();
    const actionIds = new Set<string>();
    const unexpected: unknown[] = [];
    let serial = 0;
    // 0: a workload call abandoned when the workload stopped.
    const acceptable = new Set([0, 200, 202, 204, 404, 409]);
    const worker = async () => {
      while (!stopping) {
        const known = [...told].filter(([, s]) => !s.deleted);
        const roll = random();
        if (known.length < 4 || roll < 0.45) {
          const name = `chaos-${run}-${serial++}`;
          const answer = await call(
            'POST',
            '/v1/servers',
            owner,
            { name, product: 'vps-nano', region: ['par1', 'fra1', 'ams1'][serial % 3], image: 'debian-12' },
            randomUUID(),
            true,
          );
          if (answer.status === 202) {
            told.set(answer.body.server.id, { name, deleted: false });
            actionIds.add(answer.body.action.id);
          } else if (!acceptable.has(answer.status)) unexpected.push(answer.body);
          continue;
        }
        const [serverId, server] = known[Math.floor(random() * known.length)];
        const verb = roll < 0.65 ? 'start' : roll < 0.85 ? 'stop' : 'delete';
        const answer =
          verb === 'delete'
            ? await call('DELETE', `/v1/servers/${serverId}`, owner, undefined, randomUUID(), true)
            : await call('POST', `/v1/servers/${serverId}/actions/${verb}`, owner, {}, randomUUID(), true);
        // A delete abandoned when the workload stopped (status 0) may have been carried out: the client asked
        // for it, so the server no longer counts as one it was told exists.
        if (verb === 'delete' && answer.status === 0) server.deleted = true;
        if (answer.status === 202) {
          if (verb === 'delete') server.deleted = true;
          if (answer.body?.action?.id) actionIds.add(answer.body.action.id);
        } else if (!acceptable.has(answer.status)) unexpected.push(answer.body);
      }
    };

    // ---- the killer ----
    let kills = 0;
    const killer = async () => {
      for (let trial = 0; trial < options.trials; trial++) {
        phase = `the workload, trial ${trial + 1} of ${options.trials}`;
        await sleep(between(options.killEveryMs), deadline.signal);
        checkDeadline();
        const victim = replicas[Math.floor(random() * replicas.length)];
        const serve = victim.serve!;
        victim.url = null;
        serve.child.kill('SIGKILL');
        await new Promise<void>((resolve) =>
          serve.child.exitCode !== null || serve.child.signalCode !== null
            ? resolve()
            : serve.child.once('exit', () => resolve()),
        );
        kills++;
        log(`trial ${trial + 1}/${options.trials}: killed replica ${victim.index}`);
        await sleep(between(options.downMs), deadline.signal);
        phase = `the workload, restarting replica ${victim.index} after kill ${trial + 1}`;
        await start(victim);
      }
    };

    // A worker's failure is kept, not left unhandled while the killer runs: it ends the workload.
    const workerErrors: unknown[] = [];
    const workers = Array.from({ length: options.concurrency }, () =>
      worker().catch((error: unknown) => {
        workerErrors.push(error);
        stopping = true;
      }),
    );
    try {
      await killer();
    } finally {
      stopping = true;
      await Promise.all(workers);
    }
    checkDeadline();
    if (workerErrors.length > 0) throw workerErrors[0];

    // ---- convergence and the counts ----
    phase = 'waiting for convergence';
    const settleStarted = performance.now();
    const listAll = async () => {
      const servers: Array<{ id: string; name: string; status: string; desired_state: string }> = [];
      for (let cursor: string | null = null; ;) {
        const answer: ApiAnswer = await call(
          'GET',
          `/v1/servers?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          owner,
        );
        if (answer.status !== 200) throw new Error(`list: ${answer.status} ${JSON.stringify(answer.body)}`);
        servers.push(...answer.body.servers);
        cursor = answer.body.next_cursor ?? null;
        if (!cursor) return servers;
      }
    };
    const unconvergedOf = (servers: Awaited<ReturnType<typeof listAll>>) =>
      servers.filter((s) => s.status !== (s.desired_state === 'deleted' ? 'deleted' : s.desired_state));
    const runningActions = async () => {
      const running: string[] = [];
      for (const id of actionIds) {
        const answer = await call('GET', `/v1/actions/${id}`, owner);
        if (answer.status === 200 && answer.body.action.status === 'running') running.push(id);
      }
      return running;
    };
    let servers = await listAll();
    let stuck = await runningActions();
    while (
      (unconvergedOf(servers).length > 0 || stuck.length > 0) &&
      performance.now() - settleStarted < options.settleTimeoutMs
    ) {
      await sleep(500, deadline.signal);
      servers = await listAll();
      stuck = await runningActions();
    }
    const settleMs = Math.round(performance.now() - settleStarted);

    phase = 'counting';
    const byId = new Map(servers.map((s) => [s.id, s]));
    const lost = [...told].filter(([id, s]) => !s.deleted && !byId.has(id)).map(([id, s]) => ({ id, name: s.name }));
    const byName = new Map<string, string[]>();
    for (const s of servers) byName.set(s.name, [...(byName.get(s.name) ?? []), s.id]);
    const duplicated = [...byName].filter(([, ids]) => ids.length > 1).map(([name, ids]) => ({ name, ids }));
    const audit = await call('GET', '/v1/admin/audit-placement', operator);
    if (audit.status !== 200) throw new Error(`placement audit: ${audit.status} ${JSON.stringify(audit.body)}`);
    const violations: unknown[] = audit.body.violations ?? [];
    const unconverged = unconvergedOf(servers);
    return {
      db,
      replicas: options.replicas,
      trials: options.trials,
      kills,
      requests,
      retries,
      created: told.size,
      lost: lost.length,
      duplicated: duplicated.length,
      oversold: violations.length,
      unconverged: unconverged.length,
      stuck_actions: stuck.length,
      settleMs,
      examples: Object.fromEntries(
        Object.entries({ lost, duplicated, oversold: violations, unconverged, stuck_actions: stuck, unexpected })
          .filter(([, list]) => list.length > 0)
          .map(([key, list]) => [key, list.slice(0, 5)]),
      ),
    };
  } catch (error) {
    if (!(error instanceof ChaosDeadlineError) && !deadline.signal.aborted) throw error;
    const outputs = replicas
      .map((r) => `replica ${r.index} (${r.url ?? 'down'}):\n${(r.serve?.output() ?? '').slice(-2000)}`)
      .join('\n');
    const waiting = busyAtDeadline.slice(0, 20).join('\n  ') || 'none';
    const sessions = database
      ? await database.activity().catch((e: Error) => [`could not read pg_stat_activity: ${e.message}`])
      : [];
    const sessionsText = sessions.length > 0 ? `database sessions:\n  ${sessions.slice(0, 40).join('\n  ')}\n` : '';
    throw new Error(
      `the chaos run passed its ${options.deadlineMs} ms deadline during ${phase}\ncalls under way:\n  ${waiting}\n${sessionsText}${outputs}`,
      { cause: error },
    );
  } finally {
    clearTimeout(deadlineTimer);
    await Promise.all(
      children.map(async ({ child }) => {
        const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await stopProcess(child);
        clearTimeout(killTimer);
      }),
    );
    await database?.drop().catch((error: Error) => log(`could not drop ${database?.name}: ${error.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}
