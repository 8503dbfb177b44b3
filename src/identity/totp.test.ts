import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, base32Encode, hotp, matchStep, otpauthUri, totpAt, totpStepAt } from './totp.ts';

const rfcSecret = Buffer.from('12345678901234567890', 'ascii');

test('HOTP matches the test vectors of RFC 4226 (appendix D)', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  assert.deepEqual(
    expected.map((_, counter) => hotp(rfcSecret, counter)),
    expected,
  );
});

test('TOTP with SHA-1 matches the test vectors of RFC 6238 (appendix B, 8 digits)', () => {
  const vectors: Array<[number, string]> = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [seconds, code] of vectors) assert.equal(totpAt(rfcSecret, seconds * 1000, 8), code, `T=${seconds}`);
});

test('a code matches its own step and one step either side, not two', () => {
  const now = 1_700_000_000_000;
  const step = totpStepAt(now);
  assert.equal(matchStep(rfcSecret, hotp(rfcSecret, step), now), step);
  assert.equal(matchStep(rfcSecret, hotp(rfcSecret, step - 1), now), step - 1);
  assert.equal(matchStep(rfcSecret, hotp(rfcSecret, step + 1), now), step + 1);
  assert.equal(matchStep(rfcSecret, hotp(rfcSecret, step - 2), now), null);
  assert.equal(matchStep(rfcSecret, hotp(rfcSecret, step + 2), now), null);
  assert.equal(matchStep(rfcSecret, '12345', now), null);
  assert.equal(matchStep(rfcSecret, 'abcdef', now), null);
});

test('base32 round-trips and the otpauth URI carries the secret and issuer', () => {
  assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
  assert.deepEqual(base32Decode('MZXW6YTBOI'), Buffer.from('foobar'));
  assert.deepEqual(base32Decode('mzxw 6ytb-oi'), Buffer.from('foobar'));
  const uri = new URL(otpauthUri({ secret: rfcSecret, issuer: 'VMCloud', account: 'a@b.example' }));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), base32Encode(rfcSecret));
  assert.equal(uri.searchParams.get('issuer'), 'VMCloud');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/VMCloud:a@b.example');
});
