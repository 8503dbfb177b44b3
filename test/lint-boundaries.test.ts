/**
 * The architecture rules are real: the project's own ESLint configuration fails on a deliberate violation
 * of each (src/cli importing the database, a domain reaching into another's files, a table named outside
 * its owner's store) and passes the same code where the rules allow it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function ruleIdsOf(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const cases: Array<{ name: string; file: string; code: string; violation: RegExp | null }> = [
  {
    name: 'the CLI never imports the database layer',
    file: 'src/cli/commands/x.ts',
    code: "import { openDatabase } from '../../db/index.ts';\nexport const x = openDatabase;\n",
    violation: /import-boundaries: cli may not import db/,
  },
  {
    name: 'the CLI imports only contract, core and the client',
    file: 'src/cli/commands/x.ts',
    code: "import { createScheduler } from '../../scheduler/index.ts';\nexport const x = createScheduler;\n",
    violation: /import-boundaries: cli may not import scheduler/,
  },
  {
    name: 'the REST edge never imports the database layer',
    file: 'src/api/rest/routes/x.ts',
    code: "import { inTransaction } from '../../../db/index.ts';\nexport const x = inTransaction;\n",
    violation: /import-boundaries: api may not import db/,
  },
  {
    name: 'core imports no domain',
    file: 'src/core/x.ts',
    code: "import { createComputeService } from '../compute/index.ts';\nexport const x = createComputeService;\n",
    violation: /import-boundaries: core may not import compute/,
  },
  {
    name: 'a domain reaches another only through its index.ts',
    file: 'src/compute/x.ts',
    code: "import { createInventoryStore } from '../inventory/store.ts';\nexport const x = createInventoryStore;\n",
    violation: /import-boundaries: import another domain through its index.ts: inventory\/store.ts/,
  },
  {
    name: 'through the index it is allowed',
    file: 'src/compute/x.ts',
    code: "import { createInventoryService } from '../inventory/index.ts';\nexport const x = createInventoryService;\n",
    violation: null,
  },
  {
    name: "a table is named only by its owner's store",
    file: 'src/compute/x.ts',
    code: "export const f = (db: any) => db.selectFrom('hosts').selectAll().execute();\n",
    violation: /table-ownership: table hosts belongs to inventory, scheduler/,
  },
  {
    name: 'the owner names its table only in its store',
    file: 'src/compute/service-x.ts',
    code: "export const f = (db: any) => db.selectFrom('servers').selectAll().execute();\n",
    violation: /table-ownership: table servers is named outside a store/,
  },
  {
    name: "the owner's store may name it",
    file: 'src/compute/store.ts',
    code: "export const f = (db: any) => db.selectFrom('servers').selectAll().execute();\n",
    violation: null,
  },
  {
    name: 'app.ts holds no SQL',
    file: 'src/app.ts',
    code: "export const f = (db: any) => db.selectFrom('servers').selectAll().execute();\n",
    violation: /table-ownership: table servers belongs to compute/,
  },
];

for (const c of cases) {
  test(`lint: ${c.name}`, async () => {
    const messages = (await ruleIdsOf(c.code, c.file)).filter((m) => m.startsWith('vmcloud/'));
    if (c.violation === null) assert.deepEqual(messages, []);
    else
      assert.ok(
        messages.some((m) => c.violation!.test(m.replace('vmcloud/', ''))),
        messages.join('\n') || 'no violation',
      );
  });
}
