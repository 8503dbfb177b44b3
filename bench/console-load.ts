/**
 * The web console's first load of the server list with many servers, in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core; CHROMIUM_PATH overrides).
 *
 *   node bench/console-load.ts [--json] [--servers 1000] [--runs 5]
 *
 * A control plane in this process (SQLite in a temp dir, the seed fleet, fast simulated hosts) on a random
 * port, serving web/dist (built with vite's API when missing); `--servers` servers created through the
 * REST API and left running; the owner signed in through the first-start link. Then each run opens
 * /servers in a **fresh browser context** (the session cookie, an empty HTTP cache: a first load) and
 * reads the navigation timing — `domContentLoadedMs`, `loadMs` (from the navigation's start) — and
 * `listRenderedMs`: until the table shows every server (polled on each animation frame). Prints the
 * median and each run, and the JavaScript files' sizes (raw and `gzip -9`): `bundle` (loaded by every
 * page) and `lazy` (chunks loaded on demand, e.g. xterm.js).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { createControlPlane } from '../src/app.ts';

const usage = `usage: node bench/console-load.ts [--json] [--servers N] [--runs N]
  --servers N   servers created through the API before measuring (default 1000)
  --runs N      first loads measured, each in a fresh browser context (default 5)
  --json        one JSON line`;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    servers: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const serverCount = Number(values.servers);
const runs = Number(values.runs);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  console.error(`no browser at ${chromiumPath} (set CHROMIUM_PATH)`);
  process.exit(2);
}
const log = (line: string) => values.json || console.error(line);

const root = join(import.meta.dirname, '..');
const consoleDir = join(root, 'web', 'dist');
if (!existsSync(join(consoleDir, 'index.html'))) {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn' });
}

const dataDir = mkdtempSync(join(tmpdir(), 'vmcloud-bench-console-'));
const cp = await createControlPlane({
  databaseUrl: join(dataDir, 'vmcloud.sqlite'),
  dataDir,
  consoleDir,
  fleet: 'vmcloud',
  fleetScale: Math.max(1, Math.ceil(serverCount / 500)),
  simDelays: { startMs: 20, stopMs: 10, forcedStopMs: 5, rebootMs: 15, destroyMs: 5, volumeMs: 10 },
  rateLimitPerMinute: 0,
  failedAuthPerMinute: 0,
  logLevel: 'silent',
  passwordHashCost: { ln: 12, r: 8, p: 1 },
  statusProbeIntervalMs: 24 * 3_600_000,
});
const secrets = (await cp.bootstrap())!;
await cp.startBackground();
await cp.api.listen({ port: 0, host: '127.0.0.1' });
const address = cp.api.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  // The operator raises the project's quota (50 servers by default), then servers through the API, eight at
  // a time, in the regions of the seed fleet.
  const quotas = await fetch(`${url}/v1/projects/${secrets.projectId}/quotas`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${secrets.operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ servers: serverCount, vcpus: serverCount * 4 }),
  });
  if (quotas.status !== 200) throw new Error(`quotas: ${quotas.status} ${await quotas.text()}`);
  const regions = ['fra1', 'par1', 'ams1'];
  let next = 0;
  const createStarted = performance.now();
  const worker = async () => {
    while (next < serverCount) {
      const i = next++;
      const response = await fetch(`${url}/v1/servers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secrets.projectToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `web-${String(i).padStart(4, '0')}`,
          product: 'vps-nano',
          region: regions[i % regions.length],
          image: 'debian-12',
          labels: { env: i % 2 ? 'prod' : 'dev' },
        }),
      });
      if (response.status !== 202) throw new Error(`server ${i}: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // Until they all run: the page is then measured on a quiet control plane.
  for (;;) {
    let running = 0;
    let cursor: string | null = null;
    do {
      const page = (await (
        await fetch(`${url}/v1/servers?limit=200${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: { authorization: `Bearer ${secrets.projectToken}` },
        })
      ).json()) as { servers: { status: string }[]; next_cursor: string | null };
      running += page.servers.filter((s) => s.status === 'running').length;
      cursor = page.next_cursor;
    } while (cursor);
    if (running >= serverCount) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  log(`${serverCount} servers created and running in ${Math.round(performance.now() - createStarted)} ms`);

  // The owner's session, through the first-start link.
  const signIn = await browser.newContext({ locale: 'en-GB' });
  const first = await signIn.newPage();
  await first.goto(url + secrets.ownerSignIn.path);
  const password = 'a console passphrase for the benchmark';
  await first.getByLabel('New password (12 characters or more)').fill(password);
  await first.getByLabel('Confirm the password').fill(password);
  await first.getByRole('button', { name: 'Continue' }).click();
  await first.getByRole('heading', { name: 'Servers', exact: true }).waitFor({ timeout: 60_000 });
  const storageState = await signIn.storageState();
  await signIn.close();

  const samples: { domContentLoadedMs: number; loadMs: number; listRenderedMs: number }[] = [];
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ locale: 'en-GB', storageState });
    const page = await context.newPage();
    await page.goto(`${url}/servers`, { waitUntil: 'commit' });
    const listRenderedMs = await (
      await page.waitForFunction(
        (count) => {
          const g = globalThis as unknown as {
            document: { querySelectorAll(s: string): { length: number } };
            performance: { now(): number };
          };
          return g.document.querySelectorAll('table.list tbody tr').length >= count ? g.performance.now() : false;
        },
        serverCount,
        { polling: 'raf', timeout: 60_000 },
      )
    ).jsonValue();
    await page.waitForLoadState('load');
    const timing = await page.evaluate(() => {
      const g = globalThis as unknown as {
        performance: { getEntriesByType(t: string): { domContentLoadedEventEnd: number; loadEventEnd: number }[] };
      };
      const [entry] = g.performance.getEntriesByType('navigation');
      return { domContentLoadedMs: entry.domContentLoadedEventEnd, loadMs: entry.loadEventEnd };
    });
    const sample = {
      domContentLoadedMs: Math.round(timing.domContentLoadedMs),
      loadMs: Math.round(timing.loadMs),
      listRenderedMs: Math.round(Number(listRenderedMs)),
    };
    samples.push(sample);
    log(`run ${run + 1}: ${JSON.stringify(sample)}`);
    await context.close();
  }

  const assets = join(consoleDir, 'assets');
  const index = readFileSync(join(consoleDir, 'index.html'), 'utf8');
  const sizes = { bundle: { bytes: 0, gzipBytes: 0 }, lazy: { bytes: 0, gzipBytes: 0 } };
  for (const file of readdirSync(assets).filter((f) => f.endsWith('.js'))) {
    const body = readFileSync(join(assets, file));
    const kind = index.includes(`/assets/${file}`) ? sizes.bundle : sizes.lazy;
    kind.bytes += body.length;
    kind.gzipBytes += gzipSync(body, { level: 9 }).length;
  }
  const result = {
    servers: serverCount,
    runs,
    domContentLoadedMs: median(samples.map((s) => s.domContentLoadedMs)),
    loadMs: median(samples.map((s) => s.loadMs)),
    listRenderedMs: median(samples.map((s) => s.listRenderedMs)),
    listRenderedMaxMs: Math.max(...samples.map((s) => s.listRenderedMs)),
    samples,
    jsBundle: sizes.bundle,
    jsLazy: sizes.lazy,
  };
  console.log(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  await cp.close();
  rmSync(dataDir, { recursive: true, force: true });
}
