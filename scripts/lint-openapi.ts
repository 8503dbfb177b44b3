/** Lints the generated OpenAPI document with Redocly's recommended rules; any error or warning fails. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'vmcloud-openapi-lint-'));
const file = join(dir, 'openapi.json');
try {
  const dump = spawnSync(process.execPath, [join(root, 'scripts/openapi.ts'), file], { stdio: 'inherit' });
  if (dump.status !== 0) process.exit(dump.status ?? 1);
  const lint = spawnSync(join(root, 'node_modules/.bin/redocly'), ['lint', file, '--format', 'stylish'], {
    encoding: 'utf8',
  });
  const output = `${lint.stdout}${lint.stderr}`;
  process.stdout.write(output);
  const problems = /(error|warning)\s/.test(output.replace(/No configurations were provided.*\n/, ''));
  if (lint.status !== 0 || problems) {
    console.error('OpenAPI lint: problems found (warnings count as failures)');
    process.exit(1);
  }
  console.log('OpenAPI lint: no errors, no warnings');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
