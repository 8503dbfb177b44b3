/**
 * Operators see every project (`GET /v1/projects`, `GET /v1/projects/{id}`): owners, member count, quotas and
 * usage; a name filter that matches any case and takes `%` and `_` literally; keyset pages. Creating a project
 * and changing its quotas are events (`project.created`, `project.quotas_changed`). Project callers are
 * refused, an unknown project is 404, a forged cursor 400. And the CLI: `project list|show|create|quotas`.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runCliAgainst, startTestControlPlane, testDialects, until, type TestControlPlane } from './helpers.ts';

interface OperatorProject {
  id: string;
  name: string;
  owners: Array<{ user_id: string; email: string }>;
  members: number;
  quotas: Record<string, number>;
  usage: Record<string, number>;
}

for (const dialect of testDialects())
  describe(`operators' project list (${dialect})`, () => {
    let t: TestControlPlane;
    const ids: Record<string, string> = {};
    const asOperator = (method: string, path: string, body?: unknown) =>
      t.call(method, path, { token: t.secrets.operatorToken, ...(body === undefined ? {} : { body }) });

    before(async () => {
      t = await startTestControlPlane(dialect);
      for (const [name, owner, quotas] of [
        ['Acme Corp', 'ops@acme.example', { servers: 3 }],
        ['acme-staging', 'dev@acme.example', undefined],
        ['half_50%', 'x@half.example', undefined],
        ['Globex', 'it@globex.example', undefined],
      ] as const) {
        const created = await asOperator('POST', '/v1/projects', {
          name,
          owner_email: owner,
          ...(quotas ? { quotas } : {}),
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        ids[name] = created.body.project_id;
      }
    });
    after(async () => {
      await t?.dispose();
    });

    test('every project with its owners, members, quotas and usage; one by id', async () => {
      const all = (await asOperator('GET', '/v1/projects?limit=500')).body.projects as OperatorProject[];
      const acme = all.find((p) => p.id === ids['Acme Corp'])!;
      assert.deepEqual(
        [acme.name, acme.owners.map((o) => o.email), acme.members, acme.quotas.servers, acme.usage.servers],
        ['Acme Corp', ['ops@acme.example'], 1, 3, 0],
      );
      assert.match(acme.owners[0].user_id, /^usr_/);
      // The test project has servers of its own: its usage is the project's, as its owner sees it.
      const mine = (await t.call('GET', '/v1/project')).body.project;
      const own = all.find((p) => p.id === mine.id)!;
      assert.deepEqual(own.usage, mine.usage);
      assert.deepEqual(own.quotas, mine.quotas);
      const ordered = all.map((p) => p.id);
      assert.deepEqual(ordered, [...ordered].sort(), 'oldest first (id order)');

      const one = await asOperator('GET', `/v1/projects/${ids.Globex}`);
      assert.equal(one.status, 200);
      assert.deepEqual(
        one.body.project,
        all.find((p) => p.id === ids.Globex),
      );
    });

    test('the name filter: any case, % and _ taken literally', async () => {
      const named = async (text: string) =>
        ((await asOperator('GET', `/v1/projects?name=${encodeURIComponent(text)}`)).body.projects as OperatorProject[])
          .map((p) => p.name)
          .sort();
      assert.deepEqual(await named('ACME'), ['Acme Corp', 'acme-staging']);
      assert.deepEqual(await named('_50%'), ['half_50%']);
      assert.deepEqual(await named('%'), ['half_50%'], 'a % is not a wildcard');
      assert.deepEqual(await named('_'), ['half_50%'], 'an _ is not a wildcard');
      assert.deepEqual(await named('nothing like it'), []);
    });

    test('keyset pages: every project once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const answer: { projects: OperatorProject[]; next_cursor: string | null } = (
          await asOperator('GET', `/v1/projects?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        ).body;
        assert.ok(answer.projects.length <= 2);
        seen.push(...answer.projects.map((p) => p.id));
        cursor = answer.next_cursor;
        if (!cursor) break;
      }
      const all = (await asOperator('GET', '/v1/projects?limit=500')).body.projects.map((p: OperatorProject) => p.id);
      assert.deepEqual(seen, all);
      assert.ok(all.length >= 5);
    });

    test('refusals: project callers 403, unknown 404, a forged cursor 400', async () => {
      const asOwner = await t.call('GET', '/v1/projects');
      assert.equal(asOwner.status, 403, JSON.stringify(asOwner.body));
      assert.equal((await t.call('GET', `/v1/projects/${ids.Globex}`)).status, 403);
      const unknown = await asOperator('GET', '/v1/projects/prj_00000000000000000000000000');
      assert.equal(unknown.status, 404);
      const forged = await asOperator('GET', `/v1/projects?cursor=${Buffer.from('srv_123').toString('base64url')}`);
      assert.equal(forged.status, 400);
      assert.equal(forged.body.errors[0].field, 'cursor');
      assert.equal((await asOperator('GET', '/v1/projects?limit=0')).status, 400);
    });

    test('project.created and project.quotas_changed are events', async () => {
      const changed = await asOperator('PATCH', `/v1/projects/${ids.Globex}/quotas`, { servers: 40, gpus: 2 });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(changed.body.quotas.servers, 40);
      const events = await until('both events readable', async () => {
        const list = (await asOperator('GET', `/v1/events?resource_type=project&resource_id=${ids.Globex}&limit=100`))
          .body.events as Array<{ type: string; data: Record<string, unknown>; project_id: string }>;
        return list.length >= 2 && list;
      });
      assert.deepEqual(
        events.map((e) => e.type),
        ['project.created', 'project.quotas_changed'],
      );
      assert.deepEqual(events[0].data, { name: 'Globex', owner_email: 'it@globex.example' });
      assert.deepEqual((events[1].data as { changed: string[] }).changed.sort(), ['gpus', 'servers']);
      assert.equal((events[1].data as { quotas: { servers: number } }).quotas.servers, 40);
      assert.equal(events[1].project_id, ids.Globex);
      // An empty change changes nothing and says nothing.
      assert.equal((await asOperator('PATCH', `/v1/projects/${ids.Globex}/quotas`, {})).status, 200);
      const after = (await asOperator('GET', `/v1/events?resource_type=project&resource_id=${ids.Globex}`)).body.events;
      assert.equal(after.length, 2);
    });

    test('the CLI: project create, list, show, quotas; a project token exits non-zero', async () => {
      const cli = (argv: string[], token = t.secrets.operatorToken) => runCliAgainst(t, argv, { token });
      let r = await cli(['project', 'create', 'Initech', '--owner', 'bill@initech.example', '--servers', '7']);
      assert.equal(r.code, 0, r.stderr);
      const id = /project (prj_\w+) \(Initech\) created, owned by bill@initech\.example/.exec(r.stdout)?.[1];
      assert.ok(id, r.stdout);
      assert.match(r.stdout, /Owner token \(shown once, pass it on to them\): vmc_/);
      r = await cli(['project', 'list', '--name', 'initech']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${id}\\s+Initech\\s+bill@initech\\.example\\s+1\\s+0/7\\s`));
      r = await cli(['project', 'quotas', id, '--servers', '9', '--volume-gib', '500']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /servers\s+0\s+9/);
      assert.match(r.stdout, /volume_gib\s+0\s+500/);
      r = await cli(['project', 'show', id, '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const shown = JSON.parse(r.stdout) as OperatorProject;
      assert.deepEqual([shown.quotas.servers, shown.owners[0].email], [9, 'bill@initech.example']);
      r = await cli(['project', 'quotas', id, '--servers', '-1']);
      assert.notEqual(r.code, 0, 'a negative quota');
      r = await cli(['project', 'list'], t.secrets.projectToken);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /forbidden|operator/i);
      r = await cli(['project', 'show'], t.secrets.projectToken);
      assert.equal(r.code, 0, 'the token’s own project, as before');
      assert.match(r.stdout, /Your role:\s+owner/);
    });
  });
