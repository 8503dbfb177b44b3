/**
 * Builds @vmcloud/client from the project's own sources: src/contract (schemas and operations), the typed
 * client (src/client/http.ts, sse.ts) and the one error type (src/core/errors.ts) — nothing of the server.
 * Copies them into .build/, adds the package's entry, compiles with tsc into dist/ (ESM + .d.ts).
 *   node packages/client/build.ts
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const build = join(here, '.build');
rmSync(build, { recursive: true, force: true });
rmSync(join(here, 'dist'), { recursive: true, force: true });
mkdirSync(join(build, 'contract'), { recursive: true });
mkdirSync(join(build, 'client'), { recursive: true });
mkdirSync(join(build, 'core'), { recursive: true });
for (const file of readdirSync(join(root, 'src', 'contract')))
  if (file.endsWith('.ts') && !file.includes('.test.'))
    cpSync(join(root, 'src', 'contract', file), join(build, 'contract', file));
for (const file of ['http.ts', 'sse.ts']) cpSync(join(root, 'src', 'client', file), join(build, 'client', file));
cpSync(join(root, 'src', 'core', 'errors.ts'), join(build, 'core', 'errors.ts'));
writeFileSync(
  join(build, 'index.ts'),
  `/** @vmcloud/client: the contract of the VMCloud REST API v1 and its typed client. */
export * from './contract/index.ts';
export {
  createClient,
  buildUrl,
  errorFromResponse,
  type ApiClient,
  type CallInput,
  type CallResult,
  type ClientOptions,
} from './client/http.ts';
export { parseSse, type SseMessage } from './client/sse.ts';
export { VmcError, type ErrorCode } from './core/errors.ts';
`,
);
execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, 'tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
rmSync(build, { recursive: true, force: true });
console.log('built packages/client/dist');
