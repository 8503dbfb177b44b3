import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidSshPublicKey, validateCreateServer } from './validation.ts';
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
