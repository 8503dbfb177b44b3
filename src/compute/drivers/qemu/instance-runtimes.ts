/**
 * The driver's live view of its instances: per instance a lock (operations run one at a time), the state
 * file (updated under its own small lock, also from QMP events), and — while QEMU runs — the attached QMP
 * connection and console hub. Attaching works the same after an agent restart: find the process from its
 * pid file (or /proc), connect to its private QMP socket, re-read its status.
 */
import { readFile, rm } from 'node:fs/promises';
import type { Logger } from '../../../core/log.ts';
import type { Clock } from '../../../core/clock.ts';
import { connectConsole, type ConsoleHub } from './console-hub.ts';
import { initialState, readJson, writeJsonAtomic, type InstanceStateFile } from './instance-files.ts';
import { instancePaths } from './instance-paths.ts';
import { connectQmp, type QmpClient } from './qmp-client.ts';
import { onQmpEvent } from './qmp-commands.ts';
import { findInstanceQemus, isInstanceQemu, readPidFile } from './qemu-process.ts';
import type { InstancePaths } from './qemu-argv.ts';

export interface Runtime {
  serverId: string;
  pid: number;
  qmp: QmpClient;
  console: ConsoleHub | null;
}

export interface RuntimesOptions {
  stateDir: string;
  log: Logger;
  clock: Clock;
  /** Called when an instance changes outside an operation: QEMU exited, the guest shut down or panicked. */
  onChange?: (serverId: string) => void;
}

export function createRuntimes(options: RuntimesOptions) {
  const { stateDir, log, clock } = options;
  const runtimes = new Map<string, Runtime>();
  const attaching = new Map<string, Promise<Runtime | null>>();
  const locks = new Map<string, Promise<unknown>>();
  const stateLocks = new Map<string, Promise<unknown>>();

  const chain = <T>(table: Map<string, Promise<unknown>>, key: string, body: () => Promise<T>): Promise<T> => {
    const previous = table.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(body);
    const tail = next.catch(() => {});
    table.set(key, tail);
    void tail.then(() => {
      if (table.get(key) === tail) table.delete(key);
    });
    return next;
  };

  const paths = (serverId: string): InstancePaths => instancePaths(stateDir, serverId);

  const readState = async (serverId: string): Promise<InstanceStateFile> =>
    (await readJson<InstanceStateFile>(paths(serverId).stateFile)) ?? { ...initialState };

  const updateState = (serverId: string, change: (state: InstanceStateFile) => InstanceStateFile) =>
    chain(stateLocks, serverId, async () => {
      const next = change(await readState(serverId));
      await writeJsonAtomic(paths(serverId).stateFile, next);
      return next;
    });

  /** The live QEMU pid of an instance, from its pid file (checked against the cmdline) or a /proc scan. */
  const findPid = async (serverId: string, lookup: { scan: boolean } = { scan: true }): Promise<number | null> => {
    const { pidFile, qmpSocket } = paths(serverId);
    const fromFile = await readPidFile(pidFile);
    if (fromFile !== null && (await isInstanceQemu(fromFile, qmpSocket))) return fromFile;
    if (!lookup.scan) return null;
    const found = await findInstanceQemus(qmpSocket);
    if (found.length > 1) log.warn({ serverId, pids: found }, 'several QEMU processes serve one instance');
    return found[0] ?? null;
  };

  const connect = async (serverId: string, pid: number): Promise<Runtime> => {
    const qmp = await connectQmp(paths(serverId).qmpSocket, { connectTimeoutMs: 5000 });
    const runtime: Runtime = { serverId, pid, qmp, console: null };
    onQmpEvent(qmp, (event) => {
      log.info({ serverId, event: event.event, data: event.data }, 'QEMU event');
      if (event.event === 'SHUTDOWN') {
        const { guest, reason } = event.data;
        void updateState(serverId, (state) => ({
          ...state,
          lastShutdown: { guest, reason, atIso: clock.nowIso() },
        })).catch(() => {});
      }
      if (event.event === 'SHUTDOWN' || event.event === 'GUEST_PANICKED') options.onChange?.(serverId);
    });
    void qmp.closed.then(() => {
      if (runtimes.get(serverId) === runtime) runtimes.delete(serverId);
      runtime.console?.close();
      options.onChange?.(serverId);
    });
    runtimes.set(serverId, runtime);
    return runtime;
  };

  /**
   * The attached runtime of a running instance, attaching first if needed; null when no QEMU runs.
   * `scan: false` trusts the pid file alone (cheap: for instances that should be stopped).
   */
  const attach = (serverId: string, lookup: { scan: boolean } = { scan: true }): Promise<Runtime | null> => {
    const current = runtimes.get(serverId);
    if (current && current.qmp.isOpen()) return Promise.resolve(current);
    const pending = attaching.get(serverId);
    if (pending) return pending;
    const attempt = (async () => {
      const pid = await findPid(serverId, lookup);
      if (pid === null) return null;
      return connect(serverId, pid);
    })().finally(() => attaching.delete(serverId));
    attaching.set(serverId, attempt);
    return attempt;
  };

  const consoleOf = async (runtime: Runtime): Promise<ConsoleHub> => {
    if (runtime.console) return runtime.console;
    const logTail = await readFile(paths(runtime.serverId).consoleLog).catch(() => Buffer.alloc(0));
    const hub = await connectConsole(paths(runtime.serverId).consoleSocket, {
      initialScrollback: logTail.subarray(-16 * 1024),
    });
    runtime.console = hub;
    void hub.closed.then(() => {
      if (runtime.console === hub) runtime.console = null;
    });
    return hub;
  };

  return {
    paths,
    readState,
    updateState,
    /** Resolves once every state write queued so far for this instance (a QMP event's) is on disk. */
    stateWritten: (serverId: string) => chain(stateLocks, serverId, async () => {}),
    findPid,
    connect,
    attach,
    consoleOf,
    /** Runs `body` alone for this instance (start, stop, snapshot… never overlap). */
    withLock: <T>(serverId: string, body: () => Promise<T>) => chain(locks, serverId, body),
    get: (serverId: string) => runtimes.get(serverId) ?? null,
    forget(serverId: string) {
      const runtime = runtimes.get(serverId);
      runtimes.delete(serverId);
      runtime?.console?.close();
      runtime?.qmp.close();
    },
    async removeSockets(serverId: string) {
      const { qmpSocket, consoleSocket } = paths(serverId);
      await rm(qmpSocket, { force: true });
      await rm(consoleSocket, { force: true });
    },
    closeAll() {
      for (const runtime of runtimes.values()) {
        runtime.console?.close();
        runtime.qmp.close();
      }
      runtimes.clear();
    },
  };
}

export type Runtimes = ReturnType<typeof createRuntimes>;
