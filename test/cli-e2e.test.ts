/**
 * The `vmcloud` CLI against the real control plane (REST API, scheduler, simulated hosts) on every test
 * dialect: what a customer and an operator type, with the exit codes and output they get.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import YAML from 'yaml';
import { testDialects } from '../src/db/test-helpers.ts';
import { runCli, type CliIo } from '../src/cli/main.ts';
import type { StreamEvent as Event, Host, Server, Token } from '../src/contract/index.ts';
import { startTestControlPlane, until, type TestControlPlane } from './helpers.ts';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

for (const dialect of testDialects()) {
  describe(`vmcloud CLI against the control plane (${dialect})`, () => {
    let t: TestControlPlane;
    /** Runs the CLI with the project owner token, or the token given. */
    let cli: (argv: string[], token?: string, extra?: Partial<CliIo>) => Promise<Result>;
    let operator: (argv: string[]) => Promise<Result>;

    before(async () => {
      t = await startTestControlPlane(dialect);
      cli = async (argv, token = t.secrets.projectToken, extra = {}) => {
        const stdout: string[] = [];
        const stderr: string[] = [];
        const io: CliIo = {
          stdout: { write: (chunk: string) => stdout.push(chunk) },
          stderr: { write: (chunk: string) => stderr.push(chunk) },
          // No config file: URL and token come from the environment only.
          env: {
            VMCLOUD_CONFIG: join(t.dataDir, 'no-cli-config.json'),
            VMCLOUD_URL: t.url,
            VMCLOUD_TOKEN: token,
            VMCLOUD_POLL_INTERVAL_MS: '20',
          },
          isTTY: false,
          ...extra,
        };
        const code = await runCli(argv, io);
        return { code, stdout: stdout.join(''), stderr: stderr.join('') };
      };
      operator = (argv) => cli(argv, t.secrets.operatorToken);
    });
    after(async () => {
      await t?.dispose();
    });

    test('catalog: region, product and image lists', async () => {
      let result = await cli(['region', 'list']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^CODE +NAME +COUNTRY +PEERING +STATUS +ORDERABLE +OPENS\n/);
      assert.match(result.stdout, /\nfra1 +Frankfurt +DE +\S.* +operational +yes +-\n/);
      assert.match(result.stdout, /\nlon1 .* maintenance +no /);

      result = await cli(['product', 'list', '--region', 'FRA1']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /\nvps-starter +VPS-STARTER +\d+ +\d+(\.\d)? GiB +\d+ GiB +\d+ TiB +- +(yes|no) +€\d+\.\d\d +€\d+\.\d\d +\S*fra1/,
      );

      result = await cli(['image', 'list', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const slugs = (JSON.parse(result.stdout) as Array<{ slug: string }>).map((i) => i.slug);
      assert.ok(slugs.includes('debian-12'), slugs.join(','));
    });

    test('a customer runs a server through its life; mistakes get the right exit codes', async () => {
      let result = await cli([
        'server',
        'create',
        '--name',
        'cli-web-1',
        '--product',
        'VPS-STARTER',
        '--region',
        'FRA1',
        '--image',
        'debian-12',
        '--label',
        'env=e2e',
        '--wait',
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^Name: +cli-web-1\nID: +srv_\w+\nStatus: +running\nProduct: +vps-starter\nRegion: +fra1\nImage: +debian-12\nIPv4: +\d+\.\d+\.\d+\.\d+\n/,
      );
      assert.match(result.stderr, /create cli-web-1: success 100%\ncreate cli-web-1: done in \d/);

      result = await cli(['server', 'list', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const listed = (JSON.parse(result.stdout) as Server[]).find((s) => s.name === 'cli-web-1');
      assert.ok(listed, result.stdout);
      assert.equal(listed.status, 'running');
      assert.match(listed.ipv4 ?? '', /^\d+\.\d+\.\d+\.\d+$/);
      assert.deepEqual(listed.labels, { env: 'e2e' });

      result = await cli(['server', 'list']);
      assert.match(
        result.stdout,
        new RegExp(
          `\\ncli-web-1 +${listed.id} +running +vps-starter +fra1 +${listed.ipv4!.replace(/\./g, '\\.')} +env=e2e +\\d+s\\n`,
        ),
      );

      result = await cli(['server', 'show', 'cli-web-1', '-o', 'yaml']);
      assert.equal(result.code, 0, result.stderr);
      const shown = YAML.parse(result.stdout) as Server;
      assert.equal(shown.id, listed.id);
      assert.equal(shown.status, 'running');
      assert.equal(shown.placement?.numa_nodes.length, 1);

      for (const [verb, done] of [
        ['stop', 'stopped'],
        ['start', 'running'],
        ['reboot', 'rebooted'],
      ] as const) {
        result = await cli(['server', verb, 'cli-web-1', '--wait']);
        assert.equal(result.code, 0, `${verb}: ${result.stderr}`);
        assert.equal(result.stdout, `server cli-web-1 (${listed.id}) ${done}\n`);
      }
      result = await cli(['server', 'show', listed.id]);
      assert.match(result.stdout, /\nStatus: +running\n/);

      // Mistakes: unknown product (invalid, 2), unknown server (not_found, 5), a viewer creating (forbidden, 4).
      result = await cli([
        'server',
        'create',
        '--name',
        'x',
        '--product',
        'vps-huge',
        '--region',
        'fra1',
        '--image',
        'debian-12',
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /^error: unknown product vps-huge; see `vmcloud product list` \(invalid\/unknown_product\)\n {2}product: unknown product vps-huge\n/,
      );
      assert.equal(result.stdout, '');

      result = await cli(['server', 'show', 'no-such-server']);
      assert.equal(result.code, 5, result.stderr);
      assert.match(result.stderr, /error: server no-such-server was not found \(not_found\)/);
      result = await cli(['server', 'reboot', 'srv_0000000000000000000000000']);
      assert.equal(result.code, 5, result.stderr);

      result = await cli(['token', 'create', '--name', 'read-only', '--role', 'viewer', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const viewer = JSON.parse(result.stdout) as { token: Token; secret: string };
      assert.equal(viewer.token.role, 'viewer');
      result = await cli(
        ['server', 'create', '--name', 'nope', '--product', 'vps-starter', '--region', 'fra1', '--image', 'debian-12'],
        viewer.secret,
      );
      assert.equal(result.code, 4, result.stderr);
      assert.match(result.stderr, /\(forbidden\)\nhint: this needs a token with more rights/);
      result = await cli(['server', 'list'], viewer.secret);
      assert.equal(result.code, 0, 'a viewer may read');
      assert.match(result.stdout, /cli-web-1/);

      result = await cli(['token', 'list']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ID +NAME +ROLE +PREFIX +EXPIRES +LAST-USED +AGE\n/);
      assert.match(
        result.stdout,
        new RegExp(
          `\\n${viewer.token.id} +read-only +viewer +${viewer.token.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +- +\\S+ ago +\\d+s\\n`,
        ),
      );
      assert.match(result.stdout, /\ntok_\w+ +owner +owner /);

      // On PostgreSQL the stream shows a transaction's events once every older transaction has ended: poll.
      result = await until('server.created in the stream', async () => {
        const listedEvents = await cli(['events', '--type', 'server.created']);
        return listedEvents.stdout.includes(listed.id) ? listedEvents : null;
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(
          `^SEQ +TIME +TYPE +RESOURCE +DATA\\n +\\d+ +\\S+ +server\\.created +server ${listed.id} +.*name=cli-web-1`,
        ),
      );
      const types = await until('server.started in the stream', async () => {
        const mine = (JSON.parse((await cli(['events', '-o', 'json'])).stdout) as Event[])
          .filter((e) => e.resource.id === listed.id)
          .map((e) => e.type);
        return mine.includes('server.started') ? mine : null;
      });
      assert.deepEqual(types.slice(0, 2), ['server.created', 'server.started']);

      result = await cli(['server', 'delete', 'cli-web-1', '--wait']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `server cli-web-1 (${listed.id}) deleted\n`);
      result = await cli(['server', 'show', listed.id]);
      assert.equal(result.code, 5, result.stderr);

      // --follow: the stream prints what happened so far, then goes on until interrupted.
      const controller = new AbortController();
      const streamed: string[] = [];
      const stopWhenSeen = setInterval(() => {
        if (streamed.join('').includes('"server.deleted"')) controller.abort();
      }, 20);
      result = await cli(['events', '--follow', '--type', 'server.deleted', '-o', 'json'], undefined, {
        signal: controller.signal,
        stdout: { write: (chunk: string) => streamed.push(chunk) },
      });
      clearInterval(stopWhenSeen);
      result.stdout = streamed.join('');
      assert.equal(result.code, 0, result.stderr);
      const followed = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Event);
      assert.deepEqual(
        followed.filter((e) => e.resource.id === listed.id).map((e) => e.type),
        ['server.deleted'],
      );
      assert.match(result.stderr, /^stopped: resume with --after \d+\n$/);
    });

    test('an operator: hosts, host state, capacity, placement audit, host tokens', async () => {
      let result = await operator(['host', 'list', '--region', 'AMS1', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      const hosts = JSON.parse(result.stdout) as Host[];
      assert.ok(hosts.length > 0);
      assert.ok(hosts.every((h) => h.region === 'ams1'));
      const host = hosts[0];

      result = await operator(['host', 'list']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^NAME +ID +REGION +KIND +STATE +HEALTH +VCPUS +MEMORY +GPUS +SERVERS +HEARTBEAT\n/);
      assert.match(
        result.stdout,
        new RegExp(
          `\\n${host.name} +${host.id} +ams1 +${host.kind} +active +up +${host.usage.vcpus}/${host.capacity.vcpus} +\\S+ [MGT]iB/\\S+ [GT]iB `,
        ),
      );

      result = await operator(['host', 'show', host.id]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^Name: +${host.name}\\nID: +${host.id}\\nRegion: +ams1\\n`));
      assert.match(
        result.stdout,
        new RegExp(`\\nThreads: +${host.topology.threads}\\nvCPUs: +${host.usage.vcpus}/${host.capacity.vcpus}\\n`),
      );
      assert.match(result.stdout, /\nNUMA nodes\nNODE +CORES +THREADS +MEMORY\n0 +\d+ +\d+ +\d+ GiB\n/);

      result = await operator(['host', 'set-state', host.id, 'Maintenance']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `host ${host.name} is now maintenance\n`);
      result = await operator(['host', 'show', host.id, '-o', 'json']);
      assert.equal((JSON.parse(result.stdout) as Host).state, 'maintenance');
      result = await operator(['host', 'set-state', host.id, 'active']);
      assert.equal(result.code, 0, result.stderr);
      result = await operator(['host', 'show', 'host_missing']);
      assert.equal(result.code, 5, result.stderr);

      result = await operator(['capacity', '--region', 'fra1']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^REGION +PRODUCT +AVAILABILITY +FREE\nfra1 +vps-\S+ +(available|scarce|none) +\d+\n/,
      );
      assert.match(
        result.stdout,
        /\nUtilization\nREGION +HOSTS +VCPUS +CORES +MEMORY +DISK +GPUS\nfra1 +\d+\/\d+ active +\d+\/\d+ +[\d.]+% /,
      );
      result = await cli(['capacity', '--region', 'fra1']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^REGION +PRODUCT +AVAILABILITY\nfra1 +vps-\S+ +(available|scarce|none)\n/);
      assert.ok(!result.stdout.includes('Utilization'), 'customers see no figures');

      result = await operator(['admin', 'audit-placement']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, 'No placement violations.\n');

      result = await operator(['host', 'token', 'create', '--name', 'ams1-new-001']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        /^ID: +tok_\w+\nName: +ams1-new-001\nKind: +host\nSecret: +vmc_\S+\nCA SHA-256: +([0-9A-F]{2}:){31}[0-9A-F]{2}\n$/,
      );
      assert.match(
        result.stderr,
        /shown only once[\s\S]*vmcloud agent --control-plane https:\/\/127\.0\.0\.1:8443 --ca-sha256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/,
      );
      result = await cli(['host', 'token', 'create', '--name', 'sneaky']);
      assert.equal(result.code, 4, 'customers cannot make host tokens');
      result = await cli(['host', 'list']);
      assert.equal(result.code, 4, result.stderr);

      const changes = await until('both host state changes in the stream', async () => {
        const answer = await operator(['events', '--type', 'host.state_changed', '-o', 'json']);
        assert.equal(answer.code, 0, answer.stderr);
        const mine = (JSON.parse(answer.stdout) as Event[]).filter((e) => e.resource.id === host.id).map((e) => e.data);
        return mine.length >= 2 ? mine : null;
      });
      assert.deepEqual(changes, [
        { from: 'active', to: 'maintenance' },
        { from: 'maintenance', to: 'active' },
      ]);
    });
  });
}
