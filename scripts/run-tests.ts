/**
 * The test runner behind `npm test`: every `*.test.ts` under src/ and test/ through node's test runner.
 * `--pg` runs the store and API suites (files that use `testDialects()`) again with PostgreSQL only
 * (TEST_DIALECTS=postgres: `npm test` ran them on SQLite), using TEST_DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const pgOnly = args.includes('--pg');
const filters = args.filter((a) => !a.startsWith('--'));

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let files = [...findTests(join(root, 'src')), ...findTests(join(root, 'test'))].sort();
if (pgOnly) files = files.filter((f) => readFileSync(f, 'utf8').includes('testDialects('));
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
const env = { ...process.env };
if (pgOnly) {
  env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
  env.TEST_DIALECTS ??= 'postgres';
}

console.log(`running ${files.length} test files${pgOnly ? ` on ${env.TEST_DIALECTS} (${env.TEST_DATABASE_URL})` : ''}`);
/**
 * Files that boot real QEMU guests (or drive the QEMU binary hard) run one at a time after the others: two
 * of them side by side on a 2-core machine miss their guests' deadlines.
 */
const heavy = (file: string) =>
  /\.real\.test\.ts$|qemu-e2e|qemu-backups-e2e|qemu-driver\.conformance|crash-recovery|\.netns\.test\.ts$/.test(file);
const run = (list: string[], concurrency: number) =>
  list.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...list.map((f) => relative(root, f))],
        { cwd: root, env, stdio: 'inherit' },
      ).status ?? 1);
/**
 * On PostgreSQL the files run one at a time too: an ordered read of the event stream waits for every
 * transaction begun before it anywhere in the cluster, so one file's long transaction (a migration, a
 * property test's batch) stalls another file's event consumers for seconds (docs/api.md).
 */
const light = run(
  files.filter((f) => !heavy(f)),
  pgOnly ? 1 : 2,
);
const serial = run(files.filter(heavy), 1);
process.exit(light !== 0 ? light : serial);
