/**
 * The test runner behind `npm test`: every `*.test.ts` under src/ and test/ through node's test runner.
 * `--pg` runs the store and API suites (files that use `testDialects()`) again with PostgreSQL only
 * (TEST_DIALECTS=postgres: `npm test` ran them on SQLite), using TEST_DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test. `--and-pg` (CI) does both in one run: the SQLite files, then the
 * PostgreSQL store and API suites side by side with the QEMU files (those mostly wait on their guests, the
 * PostgreSQL suites on the database), their output printed once they finish.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const pgOnly = args.includes('--pg');
const andPg = !pgOnly && args.includes('--and-pg');
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
if (filters.length > 0) files = files.filter((f) => filters.some((x) => f.includes(x)));
/** Store and API suites (`testDialects()`), and the files that need a PostgreSQL server (replicas). */
const onPostgres = (f: string) => /testDialects\(|process\.env\.TEST_DATABASE_URL/.test(readFileSync(f, 'utf8'));
const pgFiles = files.filter(onPostgres);
if (pgOnly) files = pgFiles;
const env = { ...process.env };
const pgEnv = {
  ...process.env,
  TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  TEST_DIALECTS: process.env.TEST_DIALECTS ?? 'postgres',
};
if (pgOnly) Object.assign(env, pgEnv);
// With --and-pg the first pass is the README's `npm test`: SQLite only, whatever TEST_DATABASE_URL says.
if (andPg) {
  delete env.TEST_DATABASE_URL;
  delete env.TEST_DIALECTS;
}

console.log(`running ${files.length} test files${pgOnly ? ` on ${env.TEST_DIALECTS} (${env.TEST_DATABASE_URL})` : ''}`);
if (andPg) console.log(`then ${pgFiles.length} of them on ${pgEnv.TEST_DIALECTS} (${pgEnv.TEST_DATABASE_URL})`);
/**
 * Files that boot real QEMU guests (or drive the QEMU binary hard) run one at a time after the others: two
 * of them side by side on a 2-core machine miss their guests' deadlines.
 */
const heavy = (file: string) =>
  /\.real\.test\.ts$|qemu-[a-z-]*e2e|qemu-driver\.conformance|crash-recovery|\.netns\.test\.ts$/.test(file);
/**
 * Each group of files runs in a process group of its own with a time limit: a file that never ends (a test
 * past its timeout whose child processes keep the file alive) is killed with everything it started, and the
 * run fails saying so, instead of holding CI until its own limit.
 */
const groupLimitMs = Number(process.env.TEST_GROUP_LIMIT_MS ?? 25 * 60_000);
const run = (
  list: string[],
  concurrency: number,
  options: { env?: NodeJS.ProcessEnv; output?: string[] } = {},
): Promise<number> => {
  if (list.length === 0) return Promise.resolve(0);
  const child = spawn(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', ...list.map((f) => relative(root, f))],
    {
      cwd: root,
      env: options.env ?? env,
      stdio: options.output ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      detached: true,
    },
  );
  // A run beside another keeps its output, printed when it ends (interleaved reports are unreadable).
  const keep = (chunk: Buffer) => options.output!.push(chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // the group is gone already
    }
  };
  const limit = setTimeout(() => {
    console.error(
      `\n✖ ${list.length} test files did not finish within ${Math.round(groupLimitMs / 1000)} s: killed with what they started`,
    );
    killGroup('SIGKILL');
  }, groupLimitMs);
  const forward = (signal: NodeJS.Signals) => killGroup(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      process.off('SIGINT', forward).off('SIGTERM', forward);
      // Whatever the files left behind in their group goes with them.
      killGroup('SIGKILL');
      resolve(code ?? (signal ? 1 : 0));
    }),
  );
};
/**
 * On PostgreSQL the files run one at a time too: an ordered read of the event stream waits for every
 * transaction begun before it anywhere in the cluster, so one file's long transaction (a migration, a
 * property test's batch) stalls another file's event consumers for seconds (docs/api.md).
 */
const light = await run(
  files.filter((f) => !heavy(f)),
  pgOnly ? 1 : 2,
);
if (!andPg) {
  const serial = await run(files.filter(heavy), 1);
  process.exit(light !== 0 ? light : serial);
}
const startedMs = Date.now();
const pgOutput: string[] = [];
const [serial, pgLight] = await Promise.all([
  run(files.filter(heavy), 1),
  run(
    pgFiles.filter((f) => !heavy(f)),
    1,
    { env: pgEnv, output: pgOutput },
  ).then((code) => {
    console.log(
      `\n== PostgreSQL store and API suites (beside the QEMU files; ${Math.round((Date.now() - startedMs) / 1000)} s) ==`,
    );
    process.stdout.write(pgOutput.join(''));
    return code;
  }),
]);
const pgHeavy = await run(pgFiles.filter(heavy), 1, { env: pgEnv });
process.exit([light, serial, pgLight, pgHeavy].find((code) => code !== 0) ?? 0);
