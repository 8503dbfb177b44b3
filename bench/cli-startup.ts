/**
 * `npm run bench:cli -- [--runs N] [--compare REV] [--json]`: how long `vmcloud` takes to start and answer a
 * command that needs no server (`--help`, `config show`), median and p90 of N runs (default 20). With
 * `--compare REV` the same is measured on that git revision (checked out with `git archive` into a
 * temporary directory, sharing this node_modules), so before/after come from one machine and one run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile, round } from './lib/stats.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string' }, compare: { type: 'string' }, json: { type: 'boolean' } },
});
const runs = Number(values.runs ?? 20);
const root = join(import.meta.dirname, '..');
const commands = [['--help'], ['config', 'show']];

function measure(tree: string, argv: string[]): { p50Ms: number; p90Ms: number } {
  const durations: number[] = [];
  const env = { ...process.env, VMCLOUD_CONFIG: join(tmpdir(), 'vmcloud-bench-cli-none.json') };
  for (let i = 0; i < runs + 1; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [join(tree, 'bin/vmcloud.ts'), ...argv], { env, stdio: 'ignore' });
    const elapsed = performance.now() - started;
    if (result.status !== 0) throw new Error(`vmcloud ${argv.join(' ')} exited ${result.status} in ${tree}`);
    if (i > 0) durations.push(elapsed); // the first run warms the file cache
  }
  durations.sort((a, b) => a - b);
  return { p50Ms: round(percentile(durations, 50)), p90Ms: round(percentile(durations, 90)) };
}

const trees: Array<{ label: string; dir: string }> = [{ label: 'working tree', dir: root }];
let temp: string | null = null;
if (values.compare) {
  temp = mkdtempSync(join(tmpdir(), 'vmcloud-bench-cli-'));
  const archive = spawnSync('sh', ['-c', `git -C ${root} archive ${values.compare} | tar -x -C ${temp}`]);
  if (archive.status !== 0) throw new Error(`git archive ${values.compare} failed: ${archive.stderr}`);
  symlinkSync(join(root, 'node_modules'), join(temp, 'node_modules'));
  trees.unshift({ label: values.compare, dir: temp });
}
try {
  const rows = trees.flatMap((tree) =>
    commands.map((argv) => ({
      tree: tree.label,
      command: `vmcloud ${argv.join(' ')}`,
      runs,
      ...measure(tree.dir, argv),
    })),
  );
  if (values.json) for (const row of rows) console.log(JSON.stringify(row));
  else
    for (const row of rows)
      console.log(`${row.tree.padEnd(14)} ${row.command.padEnd(22)} p50 ${row.p50Ms} ms  p90 ${row.p90Ms} ms`);
} finally {
  if (temp) rmSync(temp, { recursive: true, force: true });
}
