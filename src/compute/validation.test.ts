import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isSshKeyReference, isValidSshPublicKey, sshKeyReferences, validateCreateServer } from './validation.ts';
import { VmcError } from '../core/index.ts';

const ed25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host';

describe('ssh keys: the blob must decode to the named type, no line breaks of any kind', () => {
  const cases: Array<[string, string, boolean]> = [
    ['an ed25519 key', ed25519, true],
    ['a blob of another type', ed25519.replace('ssh-ed25519', 'ssh-rsa'), false],
    ['a blob that is not base64', 'ssh-ed25519 notbase64!!', false],
    ['no blob', 'ssh-ed25519', false],
    ['a newline and a second key', ed25519 + '\nssh-rsa AAAA', false],
    ['U+2028 in the comment (injects a line in YAML)', ed25519 + '\u2028ssh-rsa AAAA', false],
    ['U+2029 in the comment', ed25519 + '\u2029x', false],
    ['NUL in the comment', ed25519 + '\u0000x', false],
    ['NEL (U+0085) in the comment', ed25519 + '\u0085x', false],
  ];
  for (const [name, key, ok] of cases) test(name, () => assert.equal(isValidSshPublicKey(key), ok));
});

test('validateCreateServer keeps good labels and keys and lists every bad field', () => {
  const good = validateCreateServer({
    name: 'web-1',
    product: 'vps-starter',
    region: 'fra1',
    image: 'debian-12',
    labels: { env: 'prod' },
    ssh_keys: [ed25519],
  });
  assert.deepEqual(good, { labels: { env: 'prod' }, sshKeys: [ed25519] });
  assert.throws(
    () =>
      validateCreateServer({
        name: 'x',
        product: 'p',
        region: 'r',
        image: 'i',
        labels: { 'a b': 'c' },
        ssh_keys: [ed25519, 'nope'],
      }),
    (error: unknown) => {
      assert.ok(error instanceof VmcError);
      assert.equal(error.code, 'invalid');
      assert.deepEqual(error.fields.map((f) => f.field).sort(), ['labels.a b', 'ssh_keys[1]']);
      return true;
    },
  );
});

test('validateCreateServer takes saved keys by id or name beside inline keys, and names an unknown one', () => {
  const saved = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2yTnvPgt4zYdv2ITrr0z1y8DtJc/2wNzzqTmwK1MGl saved@host';
  const base = { name: 'x', product: 'p', region: 'r', image: 'i' };
  const refs = new Map([
    ['laptop', saved],
    ['key_0000000000000000000000000a', saved],
  ]);
  assert.deepEqual(sshKeyReferences({ ssh_keys: [ed25519, ' laptop ', 'key_0000000000000000000000000a'] }), [
    'laptop',
    'key_0000000000000000000000000a',
  ]);
  assert.equal(isSshKeyReference(ed25519), false);
  // inline first, then the saved key once (by name and by id: the same key)
  assert.deepEqual(
    validateCreateServer({ ...base, ssh_keys: [ed25519, 'laptop', 'key_0000000000000000000000000a'] }, refs).sshKeys,
    [ed25519, saved],
  );
  assert.throws(
    () => validateCreateServer({ ...base, ssh_keys: ['laptop', 'desktop'] }, refs),
    (error: unknown) => {
      assert.ok(error instanceof VmcError);
      assert.deepEqual(
        error.fields.map((f) => f.field),
        ['ssh_keys[1]'],
      );
      assert.match(error.fields[0].message, /names no SSH key of the project \(desktop\)/);
      return true;
    },
  );
  // without a lookup every reference is unknown
  assert.throws(() => validateCreateServer({ ...base, ssh_keys: ['laptop'] }), VmcError);
});
