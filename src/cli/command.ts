/**
 * The shape of a CLI command and its context. Each command file exports a `Group` (noun with verbs, e.g.
 * `server create`) or a top-level `Command` (e.g. `login`). main.ts routes argv to one and runs it.
 */
import type { ApiClient } from '../client/index.ts';
import type { OutputFormat } from './output.ts';
import type { Env, ResolvedProfile } from './config.ts';
import type { Action } from '../contract/index.ts';

export interface Writer {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
  env: Env;
  /** Whether stderr is an interactive terminal: `--wait` then redraws one progress line in place. */
  isTTY: boolean;
  /** Pause between polls of `--wait`; tests pass one that resolves at once. Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** Directory that relative file arguments (--ssh-key, --user-data) resolve against; default process.cwd(). */
  cwd?: string;
  /** HTTP implementation; default the global fetch. */
  fetch?: typeof fetch;
  /** Ends commands that run until interrupted (`events --follow`); without it they run until the process is killed. */
  signal?: AbortSignal;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder in help, e.g. `NAME`. */
  arg?: string;
  help: string;
}

export type Options = Record<string, OptionSpec>;

export type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

export interface Input {
  values: Values;
  positionals: string[];
}

export interface WaitOptions {
  /** Human label of what is waited for, e.g. `create web-1`. */
  label: string;
  timeoutMs?: number;
}

export interface Context {
  io: CliIo;
  output: OutputFormat;
  /** The resolved profile (URL and token after flags and environment). */
  profile(): Promise<ResolvedProfile>;
  /** The API client of the resolved profile. */
  client(): Promise<ApiClient>;
  /** Polls an action to its end, drawing progress on stderr; throws its error as a VmcError. */
  waitForAction(client: ApiClient, action: Action, options: WaitOptions): Promise<Action>;
  /** Global flag values (--profile, --url, --token). */
  globals: { profile?: string; url?: string; token?: string; caCert?: string };
  out(text: string): void;
  err(text: string): void;
  now(): number;
  cwd: string;
}

export interface Command {
  name: string;
  summary: string;
  /** The argument part of the usage line, e.g. `NAME|ID [--wait]`. */
  usage: string;
  /** Longer explanation shown by --help. */
  description?: string;
  options?: Options;
  /** Positional arguments: required ones first. */
  args?: { name: string; required: boolean }[];
  examples?: string[];
  run(ctx: Context, input: Input): Promise<number>;
}

export interface Group {
  name: string;
  summary: string;
  commands: Command[];
}

export type Entry = Command | Group;

export const isGroup = (entry: Entry): entry is Group => 'commands' in entry;

/** A mistake in the command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  readonly usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message);
    this.name = 'UsageError';
    this.usage = usage;
  }
}

// ---- reading parsed values ------------------------------------------------------------------------------

export function stringOf(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(values: Values, name: string): string {
  const value = stringOf(values, name);
  if (value === undefined || value.trim() === '') throw new UsageError(`missing --${name}`);
  return value;
}

export function stringsOf(values: Values, name: string): string[] {
  const value = values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

export function flagOf(values: Values, name: string): boolean {
  return values[name] === true;
}

/** A positive integer flag, e.g. --limit 50. */
export function integerOf(values: Values, name: string, range: { min: number; max: number }): number | undefined {
  const text = stringOf(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < range.min || value > range.max) {
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, got "${text}"`);
  }
  return value;
}

/** One of a fixed set of words, case-insensitive: `--role OWNER` → `owner`. */
export function choiceOf<T extends string>(text: string, choices: readonly T[], what: string): T {
  const lower = text.toLowerCase();
  const match = choices.find((choice) => choice === lower);
  if (!match) throw new UsageError(`${what} must be one of ${choices.join(', ')}, got "${text}"`);
  return match;
}

/** `k=v` pairs of --label flags or a comma list, validated for shape only (the API checks the rest). */
export function parseKeyValues(items: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((entry) => entry.split(','))) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} "${trimmed}" must look like key=value`);
    out[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return out;
}
