import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateTokenSecret, isWellFormedToken, hashToken, displayPrefix } from './token-format.ts';

test('generated tokens are well formed, distinct, and prefixed', () => {
  const a = generateTokenSecret();
  const b = generateTokenSecret();
  assert.match(a, /^vmc_[0-9A-Za-z]{36}$/);
  assert.notEqual(a, b);
  assert.ok(isWellFormedToken(a));
  assert.equal(displayPrefix(a), a.slice(0, 10));
  assert.equal(hashToken(a).length, 64);
});

test('a changed character or a wrong length fails the checksum', () => {
  const secret = generateTokenSecret();
  const flipped = secret.slice(0, 8) + (secret[8] === 'a' ? 'b' : 'a') + secret.slice(9);
  for (const bad of [
    flipped,
    secret.slice(0, -1),
    secret + 'x',
    'vmc_',
    'Bearer',
    '',
    secret.replace('vmc_', 'vmx_'),
  ]) {
    assert.equal(isWellFormedToken(bad), false, bad);
  }
});
