import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createManualClock } from '../core/clock.ts';
import { createControlPlaneCredentials } from './control-plane-credentials.ts';
import { isControlPlaneCertificate } from './identity.ts';
import { testAuthority } from './test-support.ts';

const hourMs = 3600_000;
const serverAuth = '1.3.6.1.5.5.7.3.1';
const clientAuth = '1.3.6.1.5.5.7.3.2';

test("the control plane's certificate: client and server, names the control plane, renewed at two thirds of its life", async () => {
  const ca = await testAuthority();
  const clock = createManualClock(Date.now());
  const credentials = await createControlPlaneCredentials({ ca, clock });
  const first = credentials.current();
  const cert = new X509Certificate(first.certPem);
  assert.equal(isControlPlaneCertificate(first.certPem), true);
  assert.deepEqual([...(cert.keyUsage ?? [])].sort(), [clientAuth, serverAuth].sort());
  assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));

  const renewals: string[] = [];
  credentials.onRenewed((issued) => renewals.push(issued.serial));
  clock.advanceMs(15 * hourMs);
  assert.equal(await credentials.renewIfDue(), false, '15 h of 24 h: not due');
  clock.advanceMs(2 * hourMs);
  assert.equal(await credentials.renewIfDue(), true, '17 h: due');
  const second = credentials.current();
  assert.notEqual(second.serial, first.serial);
  assert.notEqual(second.keyPem, first.keyPem);
  assert.deepEqual(renewals, [second.serial]);
  assert.equal(await credentials.renewIfDue(), false);
});
