/**
 * `npm run openapi [-- FILE]`: writes the OpenAPI 3.1 document of the REST API (as `/v1/openapi.json`
 * serves it) to FILE or stdout, from a control plane built in memory (no fleet, no listening port).
 * `npm run lint:openapi` then lints it with Redocly and fails on any warning.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlPlane } from '../src/app.ts';

const dir = mkdtempSync(join(tmpdir(), 'vmcloud-openapi-'));
try {
  const cp = await createControlPlane({
    databaseUrl: join(dir, 'openapi.sqlite'),
    dataDir: dir,
    fleet: 'none',
    fleetScale: 1,
    rateLimitPerMinute: 0,
    logLevel: 'silent',
  });
  await cp.api.ready();
  const answer = await cp.api.inject({ method: 'GET', url: '/v1/openapi.json' });
  await cp.close();
  const document = JSON.stringify(JSON.parse(answer.body), null, 2) + '\n';
  const file = process.argv[2];
  if (file) writeFileSync(file, document);
  else process.stdout.write(document);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
