import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replicasArgsFrom } from './replicas.ts';

const pgEnv = { DATABASE_URL: 'postgres://u@db/vmcloud' };

test('serve --replicas: its own flags are taken out, every other flag goes to each replica', () => {
  const args = replicasArgsFrom(
    ['--replicas', '3', '--port=9000', '--sim-speed', '10', '--agent-listen', '0.0.0.0:9443', '--log-level', 'warn'],
    pgEnv,
  );
  assert.equal(args.replicas, 3);
  assert.equal(args.port, 9000);
  assert.equal(args.host, '127.0.0.1');
  assert.deepEqual(args.agentListen, { host: '0.0.0.0', port: 9443 });
  assert.deepEqual(args.childArgs, ['--sim-speed', '10', '--log-level', 'warn']);
  assert.equal(args.https, false);
});

test('serve --replicas: refused without PostgreSQL, with a local QEMU host, or with a bad count', () => {
  assert.throws(() => replicasArgsFrom(['--replicas', '2'], {}), /needs PostgreSQL/);
  assert.doesNotThrow(() => replicasArgsFrom(['--replicas', '1'], {}), 'one replica on SQLite is fine');
  assert.throws(
    () => replicasArgsFrom(['--replicas', '2', '--local-host', 'qemu', '--region', 'fra1'], pgEnv),
    /local-host/,
  );
  for (const bad of ['0', '-1', '1.5', 'x', '33'])
    assert.throws(() => replicasArgsFrom(['--replicas', bad], pgEnv), /--replicas must be/);
  assert.throws(() => replicasArgsFrom(['--replicas', '2', '--host', '0.0.0.0'], pgEnv), /without TLS/);
  assert.equal(replicasArgsFrom(['--replicas', '2', '--host', '0.0.0.0', '--tls', 'auto'], pgEnv).https, true);
});
