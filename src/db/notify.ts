import pg from 'pg';
import { sql } from 'kysely';
import type { Logger } from '../core/index.ts';
import type { Db, Tx } from './connection.ts';

/**
 * Change notices between control-plane replicas on one PostgreSQL (LISTEN/NOTIFY), so that each replica's
 * caches (tokens, catalog, hosts in the scheduler's memory) follow changes made by another.
 *
 * - `publishInTx` sends inside the caller's transaction: PostgreSQL delivers it at commit, only if the
 *   transaction commits (token revocation, region status).
 * - `publish` sends after a commit, coalesced: notices of one channel within `flushMs` go as one NOTIFY.
 *   A commit takes a cluster-wide lock when its transaction notified, so hot paths (a create: "host X has
 *   new desired state") publish this way, outside their transaction, a few NOTIFY per second at most.
 * - The listener holds its own connection and reconnects (with backoff) when it drops (PostgreSQL restart,
 *   network). Notices sent while it was away are lost: after every (re)connection the `onResync`
 *   listeners run (drop every cache), and caches keep their own time-to-live as the last resort.
 * - A replica does not receive its own notices: it applies its changes to its caches after commit.
 *
 * Channels are per database, not per schema: names carry the schema (tests share one database).
 */
export interface Notifier {
  /** This replica's id, carried in every notice so that it skips its own. */
  readonly origin: string;
  publishInTx(tx: Tx, channel: string, payload: string): Promise<void>;
  publish(channel: string, payload: string): void;
  subscribe(channel: string, onNotice: (payload: string) => void): void;
  /** Runs after every (re)connection of the listener: notices may have been missed meanwhile. */
  onResync(listener: () => void): void;
  /** Whether the listener is connected now (readiness, tests). */
  listening(): boolean;
  /** Connects the listener (returns once it listens, or after a first failure: it keeps retrying). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface NotifierDeps {
  db: Db;
  /** The connection string (the listener's own connection). */
  url: string;
  pgSchema?: string;
  origin: string;
  log: Logger;
  /** Coalescing window of `publish` (default 5 ms). */
  flushMs?: number;
  /** How often the listener checks its connection with a query (default 2 s). */
  pingIntervalMs?: number;
}

/** PostgreSQL's limit on a notice's payload is 8000 bytes; a batch is split below it. */
const maxPayloadBytes = 7000;
const separator = '\n';

export function createPgNotifier(deps: NotifierDeps): Notifier {
  const flushMs = deps.flushMs ?? 5;
  const pingIntervalMs = deps.pingIntervalMs ?? 2000;
  const channelName = (channel: string) => `vmcloud:${deps.pgSchema ?? 'public'}:${channel}`;
  const subscribers = new Map<string, Array<(payload: string) => void>>();
  const resyncListeners: Array<() => void> = [];
  const pending = new Map<string, Set<string>>();
  let flushTimer: NodeJS.Timeout | null = null;
  let client: pg.Client | null = null;
  let connected = false;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let pingTimer: NodeJS.Timeout | null = null;
  let backoffMs = 100;
  let firstConnection = true;

  const encode = (payloads: string[]) => JSON.stringify({ o: deps.origin, p: payloads });

  function deliver(channel: string, text: string) {
    let notice: { o: string; p: string[] };
    try {
      notice = JSON.parse(text);
    } catch {
      return;
    }
    if (notice.o === deps.origin) return;
    for (const onNotice of subscribers.get(channel) ?? [])
      for (const payload of notice.p) {
        try {
          onNotice(payload);
        } catch (error) {
          deps.log.error({ err: error, channel }, 'a change notice handler failed');
        }
      }
  }

  function resync() {
    for (const listener of resyncListeners) {
      try {
        listener();
      } catch (error) {
        deps.log.error({ err: error }, 'a resync handler failed');
      }
    }
  }

  function dropConnection(reason: unknown) {
    if (!client) return;
    const old = client;
    client = null;
    connected = false;
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = null;
    old.removeAllListeners('notification');
    old.on('error', () => undefined);
    void old.end().catch(() => undefined);
    if (closed) return;
    deps.log.warn({ err: String(reason), retry_ms: backoffMs }, 'change-notice listener lost its connection');
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (closed || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, backoffMs);
    reconnectTimer.unref();
    backoffMs = Math.min(backoffMs * 2, 2000);
  }

  async function connect(): Promise<void> {
    if (closed || client) return;
    // Named in pg_stat_activity: which replica's listener a connection is.
    const next = new pg.Client({
      connectionString: deps.url,
      keepAlive: true,
      application_name: `vmcloud-notify:${deps.origin}`.slice(0, 63),
    });
    client = next;
    next.on('error', (error) => {
      if (client === next) dropConnection(error);
    });
    next.on('end', () => {
      if (client === next) dropConnection('connection ended');
    });
    next.on('notification', (message) => {
      if (!message.channel.startsWith(channelName(''))) return;
      deliver(message.channel.slice(channelName('').length), message.payload ?? '');
    });
    try {
      await next.connect();
      for (const channel of subscribers.keys()) await next.query(`listen "${channelName(channel)}"`);
    } catch (error) {
      if (client === next) dropConnection(error);
      return;
    }
    if (client !== next) return;
    connected = true;
    backoffMs = 100;
    pingTimer = setInterval(() => {
      if (client === next)
        next.query('select 1').catch((error: unknown) => {
          if (client === next) dropConnection(error);
        });
    }, pingIntervalMs);
    pingTimer.unref();
    if (!firstConnection) deps.log.info('change-notice listener reconnected; caches dropped');
    // Everything cached before now may have missed a notice (first start: nothing is lost, but cheap).
    if (!firstConnection) resync();
    firstConnection = false;
  }

  async function flush() {
    flushTimer = null;
    const batches = [...pending.entries()];
    pending.clear();
    for (const [channel, payloads] of batches) {
      let chunk: string[] = [];
      let bytes = 0;
      const send = async () => {
        if (chunk.length === 0) return;
        const text = encode(chunk);
        chunk = [];
        bytes = 0;
        await sql`select pg_notify(${channelName(channel)}, ${text})`.execute(deps.db);
      };
      try {
        for (const payload of payloads) {
          if (bytes + payload.length + separator.length > maxPayloadBytes) await send();
          chunk.push(payload);
          bytes += payload.length + separator.length + 3;
        }
        await send();
      } catch (error) {
        // Other replicas fall back on their caches' time-to-live for these changes.
        deps.log.warn({ err: String(error), channel }, 'could not send a change notice');
      }
    }
  }

  return {
    origin: deps.origin,

    async publishInTx(tx, channel, payload) {
      await sql`select pg_notify(${channelName(channel)}, ${encode([payload])})`.execute(tx);
    },

    publish(channel, payload) {
      if (closed) return;
      let set = pending.get(channel);
      if (!set) pending.set(channel, (set = new Set()));
      set.add(payload);
      if (!flushTimer) {
        flushTimer = setTimeout(() => void flush(), flushMs);
        flushTimer.unref();
      }
    },

    subscribe(channel, onNotice) {
      const list = subscribers.get(channel);
      if (list) {
        list.push(onNotice);
        return;
      }
      subscribers.set(channel, [onNotice]);
      if (connected && client)
        client.query(`listen "${channelName(channel)}"`).catch((error: unknown) => dropConnection(error));
    },

    onResync(listener) {
      resyncListeners.push(listener);
    },

    listening: () => connected,

    start: () => connect(),

    async close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (flushTimer) {
        clearTimeout(flushTimer);
        await flush();
      }
      if (pingTimer) clearInterval(pingTimer);
      const old = client;
      client = null;
      connected = false;
      if (old) {
        old.removeAllListeners();
        old.on('error', () => undefined);
        await old.end().catch(() => undefined);
      }
    },
  };
}

/** One process on SQLite: nobody else to tell; every change is applied to the caches after its commit. */
export function createLocalNotifier(origin: string): Notifier {
  return {
    origin,
    publishInTx: async () => {},
    publish: () => {},
    subscribe: () => {},
    onResync: () => {},
    listening: () => true,
    start: async () => {},
    close: async () => {},
  };
}
