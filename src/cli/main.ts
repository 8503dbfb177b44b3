/**
 * The `vmcloud` CLI: routes argv to a command, runs it against the REST API, renders, and maps every
 * error to one exit code (`exitCodeOf`; usage mistakes exit 2). bin/vmcloud.ts calls `runCli` for every
 * command other than `serve` and `agent`.
 */
import { parseArgs } from 'node:util';
import { exitCodeOf, VmcError } from '../core/errors.ts';
import { createClient, fetchTrusting } from '../client/index.ts';
import {
  UsageError,
  isGroup,
  type CliIo,
  type Command,
  type Context,
  type Entry,
  type Group,
  type Options,
  type Values,
} from './command.ts';
import { loadProfile, type ResolvedProfile } from './config.ts';
import { isOutputFormat, outputFormats, sanitize, type OutputFormat } from './output.ts';
import { waitForAction } from './progress.ts';
import { adminGroup } from './commands/admin.ts';
import { actionGroup } from './commands/action.ts';
import { auditLogGroup } from './commands/audit-log.ts';
import { capacityCommand } from './commands/capacity.ts';
import { imageGroup, productGroup, regionGroup } from './commands/catalog.ts';
import { configGroup } from './commands/config.ts';
import { eventsCommand } from './commands/events.ts';
import { hostGroup } from './commands/host.ts';
import { loginCommand } from './commands/login.ts';
import { projectGroup } from './commands/project.ts';
import { serverGroup } from './commands/server.ts';
import { volumeGroup } from './commands/volume.ts';
import { networkGroup, serverNetworkCommands } from './commands/network.ts';
import { firewallGroup } from './commands/firewall.ts';
import { sshKeyGroup } from './commands/ssh-key.ts';
import { floatingIpGroup } from './commands/floating-ip.ts';
import { primaryIpGroup } from './commands/primary-ip.ts';
import { tokenGroup } from './commands/token.ts';
import { serverHostCommands } from './commands/server-host.ts';
import { imageImportCommand } from './commands/image-import.ts';
import { createImageCommand, customImageCommands } from './commands/custom-image.ts';
import { hostRecoveryCommands } from './commands/host-recovery.ts';
import { operatorTokenGroup } from './commands/operator-token.ts';
import { userGroup } from './commands/user.ts';
import { operatorUserGroup } from './commands/operator-user.ts';
import { keyStoreGroup } from './commands/key-store.ts';
import { backupGroup } from './commands/backup.ts';
import { webhookGroup } from './commands/webhook.ts';
import { inventoryCommand } from './commands/inventory.ts';
import { ddosGroup, flowLogsGroup, serverTraffic, trafficGroup } from './commands/traffic.ts';
import { serverMetrics } from './commands/server-metrics.ts';
import { billingGroup, invoiceGroup, priceGroup, slaGroup } from './commands/billing.ts';
import { incidentGroup } from './commands/incident.ts';
import { maintenanceGroup } from './commands/maintenance.ts';
import { promisesCommand, statusCommand } from './commands/status.ts';

export type { CliIo, Writer } from './command.ts';
export { saveProfile, loadProfile, configPath } from './config.ts';

/** Every top-level entry, in the order `vmcloud --help` lists them. */
export const entries: Entry[] = [
  loginCommand,
  configGroup,
  regionGroup,
  productGroup,
  { ...imageGroup, commands: [...imageGroup.commands, ...customImageCommands, imageImportCommand] },
  {
    ...serverGroup,
    commands: [
      ...serverGroup.commands,
      createImageCommand,
      ...serverHostCommands,
      serverTraffic,
      serverMetrics,
      ...serverNetworkCommands,
    ],
  },
  volumeGroup,
  networkGroup,
  firewallGroup,
  sshKeyGroup,
  floatingIpGroup,
  primaryIpGroup,
  backupGroup,
  trafficGroup,
  flowLogsGroup,
  ddosGroup,
  billingGroup,
  invoiceGroup,
  slaGroup,
  priceGroup,
  actionGroup,
  projectGroup,
  tokenGroup,
  { ...hostGroup, commands: [...hostGroup.commands, ...hostRecoveryCommands] },
  operatorTokenGroup,
  userGroup,
  operatorUserGroup,
  capacityCommand,
  auditLogGroup,
  eventsCommand,
  webhookGroup,
  inventoryCommand,
  statusCommand,
  promisesCommand,
  incidentGroup,
  maintenanceGroup,
  adminGroup,
  keyStoreGroup,
];

export const globalOptions: Options = {
  output: { type: 'string', short: 'o', arg: 'FORMAT', help: 'output format: table (default), json or yaml' },
  profile: { type: 'string', arg: 'NAME', help: 'profile of the config file to use (env VMCLOUD_PROFILE)' },
  url: { type: 'string', arg: 'URL', help: 'control plane URL (env VMCLOUD_URL)' },
  token: { type: 'string', arg: 'TOKEN', help: 'API token vmc_… (env VMCLOUD_TOKEN)' },
  'ca-cert': { type: 'string', arg: 'FILE', help: 'trust this CA for HTTPS (env VMCLOUD_CA_CERT; saved by login)' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return reportError(error, io);
  }
}

// ---- routing ----------------------------------------------------------------------------------------------

interface Route {
  /** The words that named the command, e.g. ['server', 'create']. */
  path: string[];
  /** Everything else, for parseArgs. */
  rest: string[];
  help: boolean;
}

const globalValueFlags = new Set(['-o', '--output', '--profile', '--url', '--token', '--ca-cert']);

/**
 * Splits argv into command words and the rest. Global options may come first (`vmcloud -o json server
 * list`); command words are the leading non-option words (one for a top-level command, two for a group).
 */
export function splitArgv(argv: string[]): Route {
  const path: string[] = [];
  const rest: string[] = [];
  let help = false;
  let wanted = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg.startsWith('-') && arg !== '-') {
      rest.push(arg);
      if (globalValueFlags.has(arg) && i + 1 < argv.length) rest.push(argv[++i]);
      continue;
    }
    if (path.length < wanted) {
      path.push(arg);
      if (path.length === 1) {
        if (arg === 'help') wanted = 3;
        else {
          const entry = findEntry(arg);
          wanted = entry && isGroup(entry) ? 2 : 1;
        }
      }
      continue;
    }
    rest.push(arg);
  }
  return { path, rest, help };
}

const findEntry = (name: string) => entries.find((entry) => entry.name === name);

/** Edit distance, for "did you mean" on unknown commands and flags. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

export function suggest(word: string, candidates: string[]): string {
  const best = candidates
    .map((candidate) => ({ candidate, distance: editDistance(word, candidate) }))
    .filter(({ distance, candidate }) => distance <= Math.max(1, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance)[0];
  return best ? ` (did you mean "${best.candidate}"?)` : '';
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  const { path, rest, help } = splitArgv(argv);
  const out = (text: string) => io.stdout.write(text);

  if (path[0] === 'help') return showHelp(path.slice(1), io);
  if (path.length === 0) {
    if (help) {
      out(rootHelp());
      return 0;
    }
    // Global flags alone (`vmcloud -o json`) or nothing at all.
    throw new UsageError(rest.length > 0 ? `missing command before ${rest[0]}` : 'missing command', rootUsage());
  }

  const entry = findEntry(path[0]);
  if (!entry) {
    throw new UsageError(
      `unknown command "${sanitize(path[0])}"${suggest(
        path[0],
        entries.map((e) => e.name),
      )}`,
      rootUsage(),
    );
  }
  let command: Command;
  let commandPath: string;
  if (isGroup(entry)) {
    if (path.length < 2) {
      if (help) {
        out(groupHelp(entry));
        return 0;
      }
      throw new UsageError(`missing ${entry.name} command`, groupUsage(entry));
    }
    const found = entry.commands.find((c) => c.name === path[1]);
    if (!found) {
      throw new UsageError(
        `unknown command "${entry.name} ${sanitize(path[1])}"${suggest(
          path[1],
          entry.commands.map((c) => c.name),
        ).replace('"', `"${entry.name} `)}`,
        groupUsage(entry),
      );
    }
    command = found;
    commandPath = `${entry.name} ${found.name}`;
  } else {
    command = entry;
    commandPath = entry.name;
  }

  if (help) {
    out(commandHelp(commandPath, command));
    return 0;
  }

  const usage = commandUsage(commandPath, command);
  const { values, positionals } = parseCommandArgs(rest, command, usage);
  const expected = command.args ?? [];
  const required = expected.filter((a) => a.required);
  if (positionals.length < required.length) {
    throw new UsageError(
      `missing ${required
        .slice(positionals.length)
        .map((a) => a.name)
        .join(' ')}`,
      usage,
    );
  }
  if (positionals.length > expected.length) {
    throw new UsageError(`unexpected argument "${sanitize(positionals[expected.length])}"`, usage);
  }

  const outputText = typeof values.output === 'string' ? values.output.toLowerCase() : 'table';
  if (!isOutputFormat(outputText)) {
    throw new UsageError(`-o must be one of ${outputFormats.join(', ')}, got "${sanitize(outputText)}"`, usage);
  }
  const globals = {
    profile: typeof values.profile === 'string' ? values.profile : undefined,
    // A command with its own --url (`webhook create --url`) takes it; the control plane's comes from the profile or env.
    url: typeof values.url === 'string' && !command.options?.url ? values.url : undefined,
    token: typeof values.token === 'string' ? values.token : undefined,
    caCert: typeof values['ca-cert'] === 'string' ? values['ca-cert'] : undefined,
  };
  const ctx = createContext(io, globals, outputText);
  try {
    return await command.run(ctx, { values, positionals });
  } catch (error) {
    if (error instanceof UsageError && error.usage === undefined) throw new UsageError(error.message, usage);
    throw error;
  }
}

function parseCommandArgs(rest: string[], command: Command, usage: string): { values: Values; positionals: string[] } {
  const specs: Options = { ...globalOptions, ...command.options };
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? message;
      const names = Object.keys(specs).map((name) => `--${name}`);
      throw new UsageError(`unknown option ${sanitize(flag)}${suggest(flag, names)}`, usage);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /--[\w-]+/.exec(message)?.[0] ?? /'(-\w)\b/.exec(message)?.[1];
      const spec = flag
        ? (specs[flag.replace(/^-+/, '')] ?? Object.values(specs).find((s) => `-${s.short}` === flag))
        : undefined;
      if (flag && spec?.type === 'string')
        throw new UsageError(`option ${flag} needs a value${spec.arg ? ` (${spec.arg})` : ''}`, usage);
      if (flag && spec?.type === 'boolean') throw new UsageError(`option ${flag} takes no value`, usage);
    }
    throw new UsageError(message, usage);
  }
}

function createContext(io: CliIo, globals: Context['globals'], output: OutputFormat): Context {
  let profile: Promise<ResolvedProfile> | undefined;
  const now = io.now ?? Date.now;
  const pollText = io.env.VMCLOUD_POLL_INTERVAL_MS;
  const pollIntervalMs = pollText && /^\d+$/.test(pollText) ? Number(pollText) : 500;
  const ctx: Context = {
    io,
    output,
    globals,
    cwd: io.cwd ?? process.cwd(),
    now,
    out: (text) => io.stdout.write(text),
    err: (text) => io.stderr.write(text),
    profile: () =>
      (profile ??= loadProfile(globals.profile, io.env, {
        url: globals.url,
        token: globals.token,
        caCert: globals.caCert,
      })),
    async client() {
      const resolved = await ctx.profile();
      const tlsFetch = resolved.caCert ? fetchTrusting(resolved.caCert) : undefined;
      return createClient({ baseUrl: resolved.url, token: resolved.token, fetch: io.fetch ?? tlsFetch });
    },
    waitForAction: (client, action, options) =>
      waitForAction(
        {
          client,
          stderr: io.stderr,
          isTTY: io.isTTY,
          sleep: io.sleep ?? defaultSleep,
          now,
          intervalMs: pollIntervalMs,
          timeoutMs: options.timeoutMs,
        },
        action,
        options.label,
      ),
  };
  return ctx;
}

// ---- errors -----------------------------------------------------------------------------------------------

/** `error: <detail> (<code>[/<reason>])`, then field problems, placement rejections and hints. */
export function formatError(error: VmcError): string {
  const lines = [
    `error: ${sanitize(error.message)} (${error.code}${error.reason ? `/${sanitize(error.reason)}` : ''})`,
  ];
  for (const field of error.fields) {
    lines.push(`  ${field.field ? `${sanitize(field.field)}: ` : ''}${sanitize(field.message)}`);
  }
  const details = error.details;
  const placement = (
    details.placement && typeof details.placement === 'object' ? details.placement : details
  ) as Record<string, unknown>;
  if (Array.isArray(placement.rejections)) {
    for (const rejection of placement.rejections as Array<Record<string, unknown>>) {
      const hosts =
        typeof rejection.hosts === 'number' ? `${rejection.hosts} host${rejection.hosts === 1 ? '' : 's'}` : '';
      lines.push(
        `  - ${[rejection.filter, hosts, rejection.reason]
          .filter(Boolean)
          .map((p) => sanitize(String(p)))
          .join(': ')}`,
      );
    }
  }
  const largest = placement.largest_available as Record<string, unknown> | undefined;
  if (largest && typeof largest === 'object' && !/largest/i.test(error.message)) {
    const memory = largest.memory_mib;
    const parts = [
      typeof largest.vcpus === 'number' ? `${largest.vcpus} vCPUs` : null,
      typeof memory === 'number' ? `${Math.floor(memory / 1024)} GiB memory` : null,
      typeof largest.gpus === 'number' ? `${largest.gpus} GPUs` : null,
    ].filter(Boolean);
    if (parts.length > 0) lines.push(`  largest still available: ${parts.join(', ')}`);
  }
  if (error.code === 'unauthenticated' && error.reason !== 'no_token') {
    lines.push(
      'hint: the token was refused; check it with `vmcloud config show` or save a new one with `vmcloud login --token vmc_…`',
    );
  }
  if (error.code === 'forbidden')
    lines.push(
      'hint: this needs a token with more rights (an owner/member token, or an operator token for operator commands)',
    );
  if (error.code === 'rate_limited' && details.retry_after !== undefined)
    lines.push(`hint: retry after ${sanitize(String(details.retry_after))} s`);
  if (typeof details.request_id === 'string' && (error.code === 'internal' || error.code === 'unavailable')) {
    lines.push(`request id: ${sanitize(details.request_id)}`);
  }
  return lines.join('\n') + '\n';
}

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`error: ${error.message}\n`);
    if (error.usage) io.stderr.write(error.usage);
    return 2;
  }
  if (error instanceof VmcError) {
    io.stderr.write(formatError(error));
    return exitCodeOf[error.code] ?? 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`error: ${sanitize(message)} (internal)\n`);
  return 1;
}

// ---- help -------------------------------------------------------------------------------------------------

function optionLines(options: Options): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.arg ? ` ${spec.arg}` : ''}`;
    return [flag, spec.help + (spec.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`);
}

function entryLines(items: Array<{ label: string; summary: string }>): string[] {
  const width = Math.max(...items.map((i) => i.label.length));
  return items.map((i) => `  ${i.label.padEnd(width)}  ${i.summary}`);
}

export function rootUsage(): string {
  return 'Usage: vmcloud <command> [options]   (vmcloud --help lists the commands)\n';
}

export function rootHelp(): string {
  const items = entries.map((entry) => ({
    label: entry.name,
    summary: isGroup(entry) ? `${entry.summary} [${entry.commands.map((c) => c.name).join(', ')}]` : entry.summary,
  }));
  return [
    'vmcloud: the command line of a VMCloud control plane',
    '',
    'Usage: vmcloud <command> [options]',
    '',
    'Commands:',
    ...entryLines(items),
    '',
    'Global options:',
    ...optionLines(globalOptions),
    '',
    'Run `vmcloud <command> --help` for the options of a command. Exit codes: 0 ok, 1 failed, 2 usage or',
    'invalid input, 3 unauthenticated, 4 forbidden, 5 not found, 6 conflict, 7 rate limited, 8 unavailable.',
    '',
  ].join('\n');
}

export function groupUsage(group: Group): string {
  return `Usage: vmcloud ${group.name} ${group.commands.map((c) => c.name).join('|')} [options]   (vmcloud ${group.name} --help)\n`;
}

export function groupHelp(group: Group): string {
  return [
    `vmcloud ${group.name}: ${group.summary}`,
    '',
    `Usage: vmcloud ${group.name} <command> [options]`,
    '',
    'Commands:',
    ...entryLines(group.commands.map((c) => ({ label: c.name, summary: c.summary }))),
    '',
    `Run \`vmcloud ${group.name} <command> --help\` for details.`,
    '',
  ].join('\n');
}

export function commandUsage(path: string, command: Command): string {
  return `Usage: vmcloud ${path}${command.usage ? ` ${command.usage}` : ''}   (vmcloud ${path} --help)\n`;
}

export function commandHelp(path: string, command: Command): string {
  const lines = [
    `vmcloud ${path}: ${command.summary}`,
    '',
    `Usage: vmcloud ${path}${command.usage ? ` ${command.usage}` : ''}`,
    '',
  ];
  if (command.description) lines.push(command.description, '');
  if (command.options && Object.keys(command.options).length > 0)
    lines.push('Options:', ...optionLines(command.options), '');
  lines.push('Global options:', ...optionLines(globalOptions), '');
  if (command.examples?.length) lines.push('Examples:', ...command.examples.map((e) => `  ${e}`), '');
  return lines.join('\n');
}

function showHelp(words: string[], io: CliIo): number {
  if (words.length === 0) {
    io.stdout.write(rootHelp());
    return 0;
  }
  const entry = findEntry(words[0]);
  if (!entry)
    throw new UsageError(
      `unknown command "${sanitize(words[0])}"${suggest(
        words[0],
        entries.map((e) => e.name),
      )}`,
      rootUsage(),
    );
  if (!isGroup(entry)) {
    io.stdout.write(commandHelp(entry.name, entry));
    return 0;
  }
  if (words.length === 1) {
    io.stdout.write(groupHelp(entry));
    return 0;
  }
  const command = entry.commands.find((c) => c.name === words[1]);
  if (!command) throw new UsageError(`unknown command "${entry.name} ${sanitize(words[1])}"`, groupUsage(entry));
  io.stdout.write(commandHelp(`${entry.name} ${command.name}`, command));
  return 0;
}

/** Error codes of VmcError as exit codes, re-exported for the docs and tests. */
export { exitCodeOf };
