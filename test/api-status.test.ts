/**
 * The status page end to end on a real control plane: a probe pass (real HTTP to /healthz, canaries on the
 * sim fleet), incidents and maintenances through the API (operators write, everyone reads, bad input as
 * problems with stable codes), the Statuspage v2 documents, the Atom feed, the HTML in two languages,
 * /v1/promises, events, and the CLI commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliIo } from '../src/cli/main.ts';
import { startTestControlPlane, testDialects, until } from './helpers.ts';

for (const dialect of testDialects()) {
  test(`status page: API, Statuspage JSON, Atom, HTML, promises, CLI (${dialect})`, { timeout: 120_000 }, async (t) => {
    const cp = await startTestControlPlane(dialect, {
      statusProbeIntervalMs: 3_600_000,
      status: { hysteresisPasses: 2, canaryTimeoutMs: 20_000 },
    });
    t.after(() => cp.dispose());
    const operator = cp.secrets.operatorToken;

    // A probe pass: the API over HTTP, the hosts, a canary in each orderable region.
    await cp.cp.statusProbesOnce();
    let components = await cp.call('GET', '/v1/components', { token: null });
    assert.equal(components.status, 200);
    const byId = new Map<string, { status: string; reason: string; measured_status: string }>(
      components.body.components.map((c: { id: string }) => [c.id, c]),
    );
    assert.match(byId.get('global.api')!.reason, /API answered in \d+ ms/);
    assert.equal(byId.get('fra1.compute')!.status, 'operational', byId.get('fra1.compute')!.reason);
    assert.match(byId.get('fra1.compute')!.reason, /canary running after \d+ ms/);
    assert.equal(byId.get('lon1.compute')!.status, 'under_maintenance', 'the catalog has LON1 in maintenance');
    assert.ok(!byId.has('mad1.compute'), 'planned regions have no components');
    // On PostgreSQL the ordered stream shows an event once older transactions anywhere in the cluster ended.
    const serverEvents = await until("the canaries' events readable", async () => {
      const got = await cp.call('GET', '/v1/events?type=server.created,server.deleting', { token: operator });
      const types = got.body.events.map((e: { type: string }) => e.type);
      return types.filter((type: string) => type === 'server.deleting').length >= 3 ? got : undefined;
    });
    const created = serverEvents.body.events.filter((e: { type: string }) => e.type === 'server.created');
    assert.ok(created.length >= 3, 'a canary per orderable region');
    assert.equal(
      serverEvents.body.events.filter((e: { type: string }) => e.type === 'server.deleting').length,
      created.length,
      'every canary deleted',
    );

    // Status events reach the webhooks that subscribed to them by name (opt-in: `*` alone does not).
    const hookBody = (events: string[]) => ({ url: 'https://hooks.example.com/status', events });
    const optedIn = await cp.call('POST', '/v1/webhooks', { body: hookBody(['incident.*']) });
    assert.equal(optedIn.status, 201, JSON.stringify(optedIn.body));
    const everything = await cp.call('POST', '/v1/webhooks', { body: hookBody(['*']) });
    assert.equal(everything.status, 201, JSON.stringify(everything.body));

    // Writes: operators only. Reads: anyone, no token needed.
    const body = {
      title: 'Slow <storage> in FRA1',
      impact: 'major',
      components: ['fra1.storage', 'global.api'],
      body: 'We are investigating.\nMore soon.',
    };
    assert.equal((await cp.call('POST', '/v1/incidents', { token: null, body })).status, 401);
    const asProject = await cp.call('POST', '/v1/incidents', { body });
    assert.equal(asProject.status, 403);
    assert.equal(asProject.body.code, 'forbidden');
    for (const [bad, reason] of [
      [{ ...body, components: ['xyz9.compute'] }, 'unknown_component'],
      [{ ...body, components: ['mad1.compute'] }, 'unknown_component'],
      [{ ...body, title: '   ' }, 'blank'],
    ] as const) {
      const answer = await cp.call('POST', '/v1/incidents', { token: operator, body: bad });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(answer.headers.get('content-type')!, /application\/problem\+json/);
      assert.equal(answer.body.code, 'invalid');
      assert.equal(answer.body.reason, reason);
    }
    for (const bad of [
      { ...body, impact: 'huge' },
      { ...body, components: ['FRA1 compute'] },
      { ...body, extra: 1 },
    ]) {
      const answer = await cp.call('POST', '/v1/incidents', { token: operator, body: bad });
      assert.equal(answer.status, 400);
      assert.equal(answer.body.code, 'invalid');
    }
    assert.equal((await cp.call('GET', '/v1/incidents', { token: null })).body.incidents.length, 0, 'nothing written');

    const opened = await cp.call('POST', '/v1/incidents', { token: operator, body });
    assert.equal(opened.status, 201);
    const incidentId: string = opened.body.incident.id;
    assert.match(incidentId, /^inc_/);
    const shown = await cp.call('GET', `/v1/incidents/${incidentId}`, { token: null });
    assert.equal(shown.status, 200);
    assert.equal(shown.body.incident.updates[0].body, body.body);
    assert.equal((await cp.call('GET', '/v1/incidents/inc_nope', { token: null })).body.code, 'not_found');
    const updated = await cp.call('POST', `/v1/incidents/${incidentId}/updates`, {
      token: operator,
      body: { status: 'identified', body: 'A failed disk.' },
    });
    assert.equal(updated.status, 201);
    assert.equal(updated.body.incident.status, 'identified');
    components = await cp.call('GET', '/v1/components', { token: null });
    const storage = components.body.components.find((c: { id: string }) => c.id === 'fra1.storage');
    assert.equal(storage.status, 'partial_outage', 'a major incident imposes a partial outage');

    // Maintenances.
    const start = new Date(Date.now() + 3_600_000).toISOString();
    const end = new Date(Date.now() + 7_200_000).toISOString();
    const badWindow = await cp.call('POST', '/v1/maintenances', {
      token: operator,
      body: { title: 'x', components: ['par1.network'], starts_at: end, ends_at: start },
    });
    assert.equal(badWindow.status, 400);
    assert.equal(badWindow.body.reason, 'window_invalid');
    const scheduled = await cp.call('POST', '/v1/maintenances', {
      token: operator,
      body: {
        title: 'PAR1 switch upgrade',
        components: ['par1.network'],
        starts_at: start,
        ends_at: end,
        body: 'Short blips.',
      },
    });
    assert.equal(scheduled.status, 201);
    assert.equal(scheduled.body.maintenance.status, 'scheduled');
    assert.equal(
      (await cp.call('POST', `/v1/maintenances/${scheduled.body.maintenance.id}/cancel`, {})).status,
      403,
      'a project cannot cancel',
    );

    // Events of every change, for operators' streams.
    const events = await until('the status events readable', async () => {
      const got = await cp.call('GET', '/v1/events?type=incident.created,incident.updated,maintenance.scheduled', {
        token: operator,
      });
      return got.body.events.length >= 3 ? got : undefined;
    });
    assert.deepEqual(
      events.body.events.map((e: { type: string }) => e.type),
      ['incident.created', 'incident.updated', 'maintenance.scheduled'],
    );
    const deliveriesOf = async (id: string) =>
      (await cp.call('GET', `/v1/webhooks/${id}/deliveries`)).body.deliveries as { event_type: string }[];
    assert.deepEqual(
      (await deliveriesOf(optedIn.body.webhook.id)).map((d) => d.event_type).sort(),
      ['incident.created', 'incident.updated'],
      'the incident events reached the endpoint that asked for them, in its project',
    );
    assert.deepEqual(
      (await deliveriesOf(everything.body.webhook.id)).filter((d) => !d.event_type.startsWith('webhook.')),
      [],
      'a `*` endpoint did not opt in',
    );

    // Statuspage v2 documents.
    const summary = await cp.call('GET', '/status/api/v2/summary.json', { token: null });
    assert.equal(summary.status, 200);
    assert.deepEqual(Object.keys(summary.body).sort(), [
      'components',
      'incidents',
      'page',
      'scheduled_maintenances',
      'status',
    ]);
    assert.deepEqual(Object.keys(summary.body.page).sort(), ['id', 'name', 'time_zone', 'updated_at', 'url']);
    assert.equal(summary.body.status.indicator, 'major');
    assert.equal(summary.body.status.description, 'Partial System Outage');
    const group = summary.body.components.find((c: { id: string }) => c.id === 'fra1');
    assert.equal(group.group, true);
    assert.ok(group.components.includes('fra1.compute'));
    const leaf = summary.body.components.find((c: { id: string }) => c.id === 'fra1.storage');
    for (const key of [
      'id',
      'name',
      'status',
      'created_at',
      'updated_at',
      'position',
      'group_id',
      'page_id',
      'showcase',
    ])
      assert.ok(key in leaf, key);
    assert.equal(leaf.group_id, 'fra1');
    const [incident] = summary.body.incidents;
    assert.equal(incident.id, incidentId);
    assert.equal(incident.impact, 'major');
    assert.equal(incident.incident_updates.length, 2);
    assert.ok(['id', 'status', 'body', 'created_at', 'display_at'].every((k) => k in incident.incident_updates[0]));
    assert.equal(summary.body.scheduled_maintenances[0].scheduled_for, start);
    for (const [path, key] of [
      ['status.json', 'status'],
      ['components.json', 'components'],
      ['incidents.json', 'incidents'],
      ['incidents/unresolved.json', 'incidents'],
      ['scheduled-maintenances.json', 'scheduled_maintenances'],
    ]) {
      const doc = await cp.call('GET', `/status/api/v2/${path}`, { token: null });
      assert.equal(doc.status, 200, path);
      assert.ok(doc.body.page && key in doc.body, path);
    }

    // The Atom feed: escaped, one entry per incident.
    const atom = await fetch(`${cp.url}/status/history.atom`);
    assert.match(atom.headers.get('content-type')!, /application\/atom\+xml/);
    const feed = await atom.text();
    assert.match(feed, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom"/);
    assert.ok(feed.includes(`/v1/incidents/${incidentId}</id>`));
    assert.ok(feed.includes('Slow &lt;storage&gt; in FRA1') && !feed.includes('<storage>'), 'escaped');

    // The HTML page: English by default, French by Accept-Language or ?lang=.
    const english = await fetch(`${cp.url}/status`);
    assert.equal(english.status, 200);
    const html = await english.text();
    assert.match(html, /<html lang="en">/);
    assert.ok(html.includes('Slow &lt;storage&gt; in FRA1'));
    assert.ok(!html.includes('<script'), 'no JavaScript');
    assert.match(html, /data-component="lon1.compute" data-status="under_maintenance"/);
    assert.match(html, /Region LON1 is in maintenance/);
    assert.match(html, /PAR1 switch upgrade/);
    assert.match(html, /data-promise="rpo"/);
    assert.match(html, /Uptime over 90 days: 100 %/, 'one pass, all up');
    const french = await (await fetch(`${cp.url}/status`, { headers: { 'accept-language': 'fr-FR,fr;q=0.9' } })).text();
    assert.match(french, /<html lang="fr">/);
    assert.match(french, /Incidents en cours/);
    assert.match(
      await (await fetch(`${cp.url}/status?lang=en`, { headers: { 'accept-language': 'fr' } })).text(),
      /lang="en"/,
    );

    // Promises: public, measured or null with a reason.
    const promises = await cp.call('GET', '/v1/promises', { token: null });
    assert.equal(promises.status, 200);
    const promise = new Map(promises.body.promises.map((p: { id: string }) => [p.id, p])) as Map<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual([promise.get('no_overselling')!.measured, promise.get('no_overselling')!.holds], [0, true]);
    assert.equal(promise.get('no_overselling')!.simulated, true);
    // The sim agents' modelled probes report once a minute: before that, no figure and a reason.
    const loss = promise.get('packet_loss')!;
    assert.ok(loss.measured === null ? loss.reason : loss.simulated === true, JSON.stringify(loss));
    assert.equal(typeof promise.get('latency.api')!.measured, 'number', 'the API probe measured a latency');

    // The CLI.
    const env = { VMCLOUD_CONFIG: join(cp.dataDir, 'none.json'), VMCLOUD_URL: cp.url, VMCLOUD_TOKEN: operator };
    const cli = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {
        stdout: { write: (c: string) => out.push(c) },
        stderr: { write: (c: string) => err.push(c) },
        env,
        isTTY: false,
      };
      const code = await runCli(argv, io);
      return { code, stdout: out.join(''), stderr: err.join('') };
    };
    let result = await cli(['incident', 'list', '--active']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`^ID +TITLE +IMPACT +STATUS .*\\n${incidentId} +Slow <storage> in FRA1 +major +identified`),
    );
    result = await cli([
      'incident',
      'create',
      '--title',
      'API errors',
      '--impact',
      'minor',
      '--components',
      'global.api',
      '--message',
      'Some 503s.',
      '-o',
      'json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const second = JSON.parse(result.stdout) as { id: string; status: string };
    assert.equal(second.status, 'investigating');
    result = await cli(['incident', 'update', second.id, '--status', 'monitoring', '--message', 'Fixed, watching.']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Status: +monitoring/);
    result = await cli(['incident', 'resolve', second.id, '--message', 'All good.']);
    assert.equal(result.code, 0, result.stderr);
    result = await cli(['incident', 'show', second.id]);
    assert.match(result.stdout, /resolved\n +All good\.[\s\S]*monitoring\n +Fixed, watching\./);
    result = await cli(['incident', 'resolve', second.id]);
    assert.notEqual(result.code, 0, 'resolving twice fails');
    assert.match(result.stderr, /already resolved/);
    result = await cli([
      'incident',
      'create',
      '--title',
      'x',
      '--impact',
      'huge',
      '--components',
      'global.api',
      '--message',
      'x',
    ]);
    assert.equal(result.code, 2, 'bad input exits 2');
    result = await cli([
      'maintenance',
      'create',
      '--title',
      'x',
      '--components',
      'ams1.api',
      '--starts',
      'tomorrow',
      '--ends',
      'later',
    ]);
    assert.equal(result.code, 2);
    result = await cli([
      'maintenance',
      'create',
      '--title',
      'AMS1 API move',
      '--components',
      'ams1.api',
      '--starts',
      start,
      '--ends',
      end,
      '-o',
      'json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const maintenanceId = (JSON.parse(result.stdout) as { id: string }).id;
    result = await cli(['maintenance', 'list', '--upcoming']);
    assert.ok(result.stdout.includes(maintenanceId) && result.stdout.includes(scheduled.body.maintenance.id));
    result = await cli(['maintenance', 'cancel', maintenanceId]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Status: +cancelled/);
    result = await cli(['maintenance', 'list', '--past']);
    assert.ok(result.stdout.includes(maintenanceId));
    result = await cli(['status']);
    assert.match(result.stdout, /fra1\.storage +partial_outage/);
    result = await cli(['promises', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((JSON.parse(result.stdout) as unknown[]).length >= 10);
  });
}
