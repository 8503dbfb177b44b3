/**
 * The test runner behind `npm test`: every `*.test.ts` under src/ and test/ through node's test runner.
 * `--pg` runs the store and API suites (files that use `testDialects()`) again with PostgreSQL, using
 * TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test.
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
if (pgOnly) env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';

console.log(`running ${files.length} test files${pgOnly ? ` on SQLite and PostgreSQL (${env.TEST_DATABASE_URL})` : ''}`);
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files.map((f) => relative(root, f))], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
