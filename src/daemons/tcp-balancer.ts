/**
 * A small TCP load balancer for `vmcloud serve --replicas N`: each client connection goes to the next live
 * replica, round robin (HTTP keep-alive connections, WebSockets and TLS pass through untouched, as with
 * HAProxy in `mode tcp`). A replica that refuses the connection is skipped and the next one tried, so a
 * replica that died loses only the connections it held.
 */
import net from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export interface TcpBalancer {
  listen(address: { host: string; port: number }): Promise<number>;
  /** Replaces the set of live replicas (new connections only; open ones stay where they are). */
  setBackends(backends: Backend[]): void;
  close(): Promise<void>;
}

export function createTcpBalancer(options: { connectTimeoutMs?: number } = {}): TcpBalancer {
  let backends: Backend[] = [];
  let next = 0;
  const sockets = new Set<net.Socket>();
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;

  function connectUpstream(client: net.Socket, tried: number) {
    if (client.destroyed) return;
    if (backends.length === 0 || tried >= backends.length) {
      client.destroy();
      return;
    }
    const backend = backends[next++ % backends.length];
    const upstream = net.connect({ host: backend.host, port: backend.port });
    sockets.add(upstream);
    upstream.setNoDelay(true);
    upstream.setTimeout(connectTimeoutMs);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('timeout', () => upstream.destroy(new Error('connect timeout')));
    upstream.on('error', () => undefined);
    upstream.once('close', () => {
      sockets.delete(upstream);
      if (!connected) connectUpstream(client, tried + 1);
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
  }

  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.setNoDelay(true);
    client.on('error', () => undefined);
    client.once('close', () => sockets.delete(client));
    connectUpstream(client, 0);
  });

  return {
    listen({ host, port }) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as net.AddressInfo).port);
        });
      });
    },
    setBackends(list) {
      backends = [...list];
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
