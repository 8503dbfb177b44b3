/**
 * `npm run chaos`: kill -9 replicas of the control plane at random moments while clients create, start,
 * stop and delete servers, then count what must be zero (see bench/lib/chaos-run.ts).
 *
 *   node bench/chaos.ts [--json] [--trials N] [--db sqlite|postgres] [--replicas N] [--concurrency N]
 *
 * `--db postgres` runs on a fresh database next to DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped at the end. Exits 1 when a count is not zero.
 */
import { parseArgs } from 'node:util';
import { runChaos } from './lib/chaos-run.ts';

const usage = `usage: node bench/chaos.ts [--json] [--trials N] [--db sqlite|postgres] [--replicas N] [--concurrency N]
  --trials N        kills (one per trial, each replica restarted after it) (default 10)
  --db D            sqlite (one replica) or postgres (default sqlite)
  --replicas N      vmcloud serve processes on one PostgreSQL database (default 3 on postgres, 1 on sqlite)
  --concurrency N   clients (default 64)
  --settle-s S      the longest the end waits for convergence (default 120)
  --json            one JSON line`;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    trials: { type: 'string', default: '10' },
    db: { type: 'string', default: 'sqlite' },
    replicas: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'settle-s': { type: 'string', default: '120' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const whole = (text: string, flag: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`${flag} must be a whole number > 0\n${usage}`);
    process.exit(2);
  }
  return n;
};
if (values.db !== 'sqlite' && values.db !== 'postgres') {
  console.error(`--db must be sqlite or postgres\n${usage}`);
  process.exit(2);
}
const postgres = values.db === 'postgres';
const replicas = whole(values.replicas ?? (postgres ? '3' : '1'), '--replicas');
if (!postgres && replicas !== 1) {
  console.error('SQLite runs one replica: use --db postgres for several');
  process.exit(2);
}

const result = await runChaos({
  trials: whole(values.trials!, '--trials'),
  postgresUrl: postgres ? (process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres') : undefined,
  replicas,
  concurrency: whole(values.concurrency!, '--concurrency'),
  killEveryMs: [500, 2500],
  downMs: [200, 1500],
  settleTimeoutMs: whole(values['settle-s']!, '--settle-s') * 1000,
  simSpeed: 10,
  log: values.json ? undefined : (line) => console.error(line),
});
const { examples, ...counts } = result;
console.log(values.json ? JSON.stringify(counts) : JSON.stringify(result, null, 2));
const bad = result.lost + result.duplicated + result.oversold + result.unconverged + result.stuck_actions;
if (bad > 0 && values.json) console.error(JSON.stringify(examples, null, 2));
process.exit(bad > 0 ? 1 : 0);
