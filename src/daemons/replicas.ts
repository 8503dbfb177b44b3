/**
 * `vmcloud serve --replicas N`: N control-plane replicas on one PostgreSQL behind one port, on this machine
 * (benchmarks, tests, a small install). Each replica is a `vmcloud serve` child process on a loopback port;
 * a TCP balancer (tcp-balancer.ts) spreads connections over the live ones, for the API and for the agent
 * listener alike. The first replica starts alone (it migrates and bootstraps), then the others. A replica
 * that dies is started again after a second. In production, run the replicas on several machines behind
 * HAProxy instead (docs/operations.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTcpBalancer, type Backend } from './tcp-balancer.ts';
import type { ServeIo } from './serve.ts';

const binPath = fileURLToPath(new URL('../../bin/vmcloud.ts', import.meta.url));

export interface ReplicasArgs {
  replicas: number;
  host: string;
  port: number;
  agentListen: { host: string; port: number };
  /** The arguments every replica gets (without --replicas, --port, --host, --agent-listen). */
  childArgs: string[];
  https: boolean;
}

/** Takes the launcher's own flags out of a `serve` command line. */
export function replicasArgsFrom(argv: string[], env: NodeJS.ProcessEnv): ReplicasArgs {
  const own = new Map<string, string>();
  const childArgs: string[] = [];
  const names = ['--replicas', '--port', '--host', '--agent-listen'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (!names.includes(name)) {
      childArgs.push(arg);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    own.set(name, value);
  }
  const replicas = Number(own.get('--replicas'));
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 32)
    throw new Error(`--replicas must be a whole number from 1 to 32, got ${own.get('--replicas')}`);
  if (replicas > 1 && childArgs.some((a) => a === '--local-host' || a.startsWith('--local-host=')))
    throw new Error('--local-host runs a QEMU host inside serve: one per machine, not with --replicas');
  const databaseUrl = valueOf(childArgs, '--database-url') ?? env.DATABASE_URL ?? '';
  if (replicas > 1 && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new Error('--replicas needs PostgreSQL (--database-url or DATABASE_URL=postgres://…): SQLite is one process');
  const port = Number(own.get('--port') ?? env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number`);
  const host = own.get('--host') ?? env.HOST ?? '127.0.0.1';
  const https = childArgs.some((a) => a === '--tls' || a.startsWith('--tls=') || a.startsWith('--tls-cert'));
  const loopback = host === 'localhost' || host === '::1' || /^127\./.test(host);
  if (!https && !loopback && !childArgs.includes('--insecure-http'))
    throw new Error(
      `listening on ${host} without TLS would send tokens in clear: pass --tls-cert/--tls-key or --tls auto, or --insecure-http`,
    );
  const agent = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(
    own.get('--agent-listen') ?? env.VMCLOUD_AGENT_LISTEN ?? '127.0.0.1:8443',
  );
  if (!agent) throw new Error('--agent-listen must be HOST:PORT');
  return { replicas, host, port, agentListen: { host: agent[1], port: Number(agent[2]) }, childArgs, https };
}

function valueOf(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

interface Replica {
  index: number;
  child: ChildProcess | null;
  api: Backend | null;
  agent: Backend | null;
}

const backendOf = (url: string): Backend => {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port) };
};

export async function runReplicas(argv: string[], io: ServeIo): Promise<number> {
  let args: ReplicasArgs;
  try {
    args = replicasArgsFrom(argv, io.env);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n`);
    return 2;
  }
  const apiBalancer = createTcpBalancer();
  const agentBalancer = createTcpBalancer();
  let apiPort: number;
  let agentPort: number;
  try {
    apiPort = await apiBalancer.listen({ host: args.host, port: args.port });
    agentPort = await agentBalancer.listen(args.agentListen);
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n`);
    await apiBalancer.close();
    return 1;
  }
  const scheme = args.https ? 'https' : 'http';
  const shownHost = args.host.includes(':') ? `[${args.host}]` : args.host;
  const publicUrl = `${scheme}://${args.host === '0.0.0.0' || args.host === '::' ? 'localhost' : shownHost}:${apiPort}`;
  const replicas: Replica[] = Array.from({ length: args.replicas }, (_, index) => ({
    index: index + 1,
    child: null,
    api: null,
    agent: null,
  }));
  let stopping = false;

  const refresh = () => {
    apiBalancer.setBackends(replicas.flatMap((r) => (r.api ? [r.api] : [])));
    agentBalancer.setBackends(replicas.flatMap((r) => (r.agent ? [r.agent] : [])));
  };

  /** Resolves true once the replica listens, false if it exited before. */
  function start(replica: Replica): Promise<boolean> {
    const child = spawn(
      process.execPath,
      [binPath, 'serve', ...args.childArgs, '--host', '127.0.0.1', '--port', '0', '--agent-listen', '127.0.0.1:0'],
      {
        env: { ...io.env, VMCLOUD_PUBLIC_URL: publicUrl, VMCLOUD_REPLICA: String(replica.index) },
        // The IPC channel closes when this process dies, however it dies: the replica then stops too.
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    replica.child = child;
    const prefix = `[r${replica.index}] `;
    return new Promise((resolve) => {
      let pending = '';
      const onData = (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          const api = /VMCloud control plane listening on (https?:\/\/\S+)/.exec(line);
          const agent = /Agent listener \(mutual TLS\) on (https:\/\/\S+?);/.exec(line);
          if (agent) replica.agent = backendOf(agent[1]);
          if (api) {
            replica.api = backendOf(api[1]);
            refresh();
            io.stderr(`replica ${replica.index} (pid ${child.pid}) ready at ${api[1]}\n`);
            resolve(true);
          }
          io.stderr(prefix + line.replace('VMCloud control plane listening on', 'replica listening on') + '\n');
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        replica.child = null;
        replica.api = null;
        replica.agent = null;
        refresh();
        resolve(false);
        if (stopping) return;
        io.stderr(`replica ${replica.index} (pid ${child.pid}) exited (${signal ?? code}); starting it again in 1 s\n`);
        setTimeout(() => {
          if (!stopping) void start(replica);
        }, 1000);
      });
    });
  }

  // The first replica migrates the database and makes the first-start secrets; then the others join.
  if (!(await start(replicas[0])) || !(await Promise.all(replicas.slice(1).map((r) => start(r)))).every(Boolean)) {
    stopping = true;
    io.stderr('error: a replica exited while starting (its output is above)\n');
    await shutDown();
    return 1;
  }
  io.stderr(
    `VMCloud control plane listening on ${publicUrl} (${args.replicas} replicas; agents on ${args.agentListen.host}:${agentPort})\n`,
  );

  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', () => resolveStop());
    process.once('SIGTERM', () => resolveStop());
  });
  stopping = true;
  io.stderr('shutting down the replicas\n');
  await shutDown();
  return 0;

  async function shutDown() {
    await Promise.all([apiBalancer.close(), agentBalancer.close()]);
    await Promise.all(
      replicas.map(
        (r) =>
          new Promise<void>((resolve) => {
            const child = r.child;
            if (!child || child.exitCode !== null) return resolve();
            const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  }
}
