/**
 * @vmcloud/client as a package: built from src/contract + the typed client, packed with `npm pack`,
 * installed alone into an empty project (offline, from npm's cache: its one dependency is typebox), and
 * used there to list the servers of a running control plane.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestControlPlane } from './helpers.ts';

const run = promisify(execFile);

test('@vmcloud/client packs, installs alone offline and lists servers', { timeout: 180_000 }, async (t) => {
  const packageDir = resolve('packages/client');
  await run(process.execPath, [join(packageDir, 'build.ts')]);
  const work = mkdtempSync(join(tmpdir(), 'vmcloud-client-pack-'));
  const packed = await run('npm', ['pack', '--pack-destination', work, '--json'], { cwd: packageDir });
  const [{ filename, files }] = JSON.parse(packed.stdout) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes('dist/index.js') && paths.includes('dist/index.d.ts'), paths.join(', '));
  assert.ok(!paths.some((p) => /compute|scheduler|db\//.test(p)), 'no server code in the package');

  const project = join(work, 'app');
  await run('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = (...specs: string[]) =>
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', ...specs], { cwd: project });
  try {
    await install(join(work, filename));
    t.diagnostic('installed offline from the tarball alone (typebox resolved from npm’s cache)');
  } catch (error) {
    // npm's cache here holds typebox's tarball but not its registry metadata (ENOTCACHED): install the very
    // typebox the project is tested with, packed from its node_modules, beside the package.
    assert.match(String(error), /ENOTCACHED/);
    const typebox = await run('npm', ['pack', '--pack-destination', work, '--json', resolve('node_modules/typebox')]);
    const [{ filename: typeboxTarball }] = JSON.parse(typebox.stdout) as Array<{ filename: string }>;
    await install(join(work, filename), join(work, typeboxTarball));
    t.diagnostic('offline install needed typebox packed from node_modules (npm cache lacks its metadata)');
  }
  assert.deepEqual(
    readdirSync(join(project, 'node_modules'))
      .filter((n) => !n.startsWith('.'))
      .sort(),
    ['@vmcloud', 'typebox'],
  );

  const cp = await startTestControlPlane('sqlite');
  t.after(() => cp.dispose());
  const created = await cp.call('POST', '/v1/servers', {
    body: { name: 'from-package', product: 'vps-nano', region: 'fra1', image: 'debian-12' },
  });
  assert.equal(created.status, 202);
  writeFileSync(
    join(project, 'list.mjs'),
    `import { createClient, listServers, VmcError } from '@vmcloud/client';
const client = createClient({ baseUrl: process.env.VMCLOUD_URL, token: process.env.VMCLOUD_TOKEN });
const { servers } = await client.call(listServers);
let refused = null;
try { await createClient({ baseUrl: process.env.VMCLOUD_URL, token: 'vmc_nope' }).call(listServers); }
catch (error) { refused = error instanceof VmcError ? error.code : String(error); }
console.log(JSON.stringify({ names: servers.map((s) => s.name), refused }));
`,
  );
  const listed = await run(process.execPath, ['list.mjs'], {
    cwd: project,
    env: { ...process.env, VMCLOUD_URL: cp.url, VMCLOUD_TOKEN: cp.secrets.projectToken },
  });
  assert.deepEqual(JSON.parse(listed.stdout), { names: ['from-package'], refused: 'unauthenticated' });
});
