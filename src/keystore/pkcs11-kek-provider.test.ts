import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pkcs11js from 'pkcs11js';
import { createManualClock } from '../core/clock.ts';
import { isVmcError } from '../core/errors.ts';
import { kekProviderSuite } from './key-store-suite.ts';
import { defaultPkcs11ModulePath, openPkcs11KekProvider } from './pkcs11-kek-provider.ts';
import { createSoftHsmTestDirectory } from './softhsm-test-token.ts';

const softhsm = createSoftHsmTestDirectory();
after(() => softhsm.dispose());
const skip = softhsm.skipReason;
if (skip) console.log(`# ${skip}`);

// The suite runs the key store on every dialect of testDialects().
kekProviderSuite({
  name: 'pkcs11',
  skip,
  async newPlace() {
    const token = softhsm.createToken();
    const clock = createManualClock();
    return {
      open: () => openPkcs11KekProvider({ ...token, clock }),
      dispose: async () => {},
    };
  },
});

test('pkcs11 KEK provider: keys are generated on the token, sensitive and not extractable', { skip }, async () => {
  const token = softhsm.createToken();
  const provider = await openPkcs11KekProvider({ ...token, clock: createManualClock() });
  const keyId = await provider.currentKeyId();
  await provider.close();

  const library = new pkcs11js.PKCS11();
  library.load(defaultPkcs11ModulePath);
  library.C_Initialize();
  try {
    const slot = library.C_GetSlotList(true).find((s) => library.C_GetTokenInfo(s).label.trim() === token.tokenLabel);
    assert.ok(slot);
    const session = library.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    library.C_Login(session, pkcs11js.CKU_USER, token.pin);
    library.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: keyId }]);
    const [handle] = library.C_FindObjects(session, 2);
    library.C_FindObjectsFinal(session);
    assert.ok(handle, 'the key is a token object labelled with its id');
    const flags = library.C_GetAttributeValue(session, handle, [
      { type: pkcs11js.CKA_TOKEN },
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_ENCRYPT },
      { type: pkcs11js.CKA_DECRYPT },
    ]);
    assert.deepEqual(
      flags.map((a) => a.value[0]),
      [1, 1, 0, 1, 1],
    );
    assert.throws(
      () => library.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_VALUE }]),
      /CKR_ATTRIBUTE_SENSITIVE/,
    );
    library.C_CloseSession(session);
  } finally {
    library.C_Finalize();
  }
});

test('pkcs11 KEK provider: a wrong PIN or an unknown token is a clear error', { skip }, async () => {
  const token = softhsm.createToken();
  await assert.rejects(
    openPkcs11KekProvider({ ...token, pin: 'wrong', clock: createManualClock() }),
    (e) => isVmcError(e) && e.reason === 'pkcs11_pin_incorrect' && !e.message.includes('wrong'),
  );
  await assert.rejects(
    openPkcs11KekProvider({ tokenLabel: 'no-such-token', pin: token.pin, clock: createManualClock() }),
    (e) => isVmcError(e) && e.reason === 'pkcs11_token_missing',
  );
  await assert.rejects(
    openPkcs11KekProvider({ ...token, modulePath: '/nonexistent/libpkcs11.so', clock: createManualClock() }),
    (e) => isVmcError(e) && e.reason === 'pkcs11_module',
  );
});

test(
  'pkcs11 KEK provider: another process (a replica) on the token uses the keys this one made',
  { skip },
  async () => {
    const token = softhsm.createToken();
    const provider = await openPkcs11KekProvider({ ...token, clock: createManualClock() });
    try {
      const first = await provider.currentKeyId();
      const sealed = await provider.encrypt(first, Buffer.from('shared'), Buffer.from('aad'));
      const replica = `
      import { openPkcs11KekProvider } from './src/keystore/pkcs11-kek-provider.ts';
      import { createManualClock } from './src/core/clock.ts';
      const p = await openPkcs11KekProvider({ tokenLabel: process.env.T_LABEL, pin: process.env.T_PIN, clock: createManualClock() });
      const opened = await p.decrypt(process.env.T_KEY, Buffer.from(process.env.T_SEALED, 'base64'), Buffer.from('aad'));
      const rotated = await p.createKey();
      console.log(JSON.stringify({ current: await p.currentKeyId(), opened: opened.toString(), rotated }));
      await p.close();
    `;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', replica], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: {
          ...softhsm.env,
          T_LABEL: token.tokenLabel,
          T_PIN: token.pin,
          T_KEY: first,
          T_SEALED: sealed.toString('base64'),
        },
        timeout: 60_000,
      });
      const result = JSON.parse(stdout) as { current: string; opened: string; rotated: string };
      assert.notEqual(result.rotated, first);
      assert.equal(result.current, result.rotated);
      assert.equal(result.opened, 'shared');
      assert.equal(await provider.currentKeyId(), result.rotated, "the replica's new key is current here too");
      const sealedHere = await provider.encrypt(result.rotated, Buffer.from('x'), Buffer.alloc(0));
      assert.equal((await provider.decrypt(result.rotated, sealedHere, Buffer.alloc(0))).toString(), 'x');
    } finally {
      await provider.close();
    }
  },
);
