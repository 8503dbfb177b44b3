import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCreateServer, isValidSshPublicKey, isValidServerName } from './validation.ts';
import { VmcError } from '../core/index.ts';

const ed25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host';

test('ssh keys: the blob must decode to the named type', () => {
  assert.equal(isValidSshPublicKey(ed25519), true);
  assert.equal(isValidSshPublicKey(ed25519.replace('ssh-ed25519', 'ssh-rsa')), false);
  assert.equal(isValidSshPublicKey('ssh-ed25519 notbase64!!'), false);
  assert.equal(isValidSshPublicKey('ssh-ed25519'), false);
  assert.equal(isValidSshPublicKey(ed25519 + '\nssh-rsa AAAA'), false);
});

test('server names are hostnames', () => {
  const table: Array<[string, boolean]> = [['web-1', true], ['a', true], ['-web', false], ['web-', false], ['web_1', false], ['x'.repeat(63), true], ['x'.repeat(64), false], ['', false], ['web.1', false]];
  for (const [name, ok] of table) assert.equal(isValidServerName(name), ok, name);
});

test('parseCreateServer accepts a full request and lists every bad field', () => {
  const good = parseCreateServer({ name: 'web-1', product: 'vps-starter', region: 'fra1', image: 'debian-12', labels: { env: 'prod' }, ssh_keys: [ed25519], user_data: '#cloud-config\n' });
  assert.equal(good.name, 'web-1');
  assert.deepEqual(good.sshKeys, [ed25519]);
  assert.throws(
    () => parseCreateServer({ name: '-x', region: 5, image: '', labels: { 'a b': 'c' }, ssh_keys: ['nope'], user_data: 'x'.repeat(40_000) }),
    (error: unknown) => {
      assert.ok(error instanceof VmcError);
      assert.equal(error.code, 'invalid');
      assert.deepEqual(error.fields.map((f) => f.field).sort(), ['image', 'labels.a b', 'name', 'product', 'region', 'ssh_keys[0]', 'user_data']);
      return true;
    },
  );
});
