/**
 * The verbs floating IPs and primary IPs share: `assign`, `unassign` (actions, `--wait`) and `set-dns-ptr`.
 * Each resource gives its noun, help texts and the contract call.
 */
import type { Action } from '../../contract/index.ts';
import type { ApiClient } from '../../client/index.ts';
import { flagOf, requiredString, stringOf, UsageError, type Command, type Context } from '../command.ts';
import { finishAction, waitOption } from './action.ts';

interface Verb {
  /** `floating IP`, `primary IP`: in the sentences printed. */
  noun: string;
  summary: string;
  example: string;
}

export function assignCommand(
  verb: Verb & {
    /** What the sentence says once done: `routed to` (floating), `assigned to` (default). */
    doneAs?: string;
    call(client: ApiClient, id: string, server: string): Promise<{ action: Action }>;
  },
): Command {
  return {
    name: 'assign',
    summary: verb.summary,
    usage: 'ID|NAME --server NAME|ID [--wait]',
    args: [{ name: 'ID|NAME', required: true }],
    options: { server: { type: 'string', arg: 'NAME|ID', help: 'the server' }, ...waitOption },
    examples: [verb.example],
    async run(ctx, { positionals, values }) {
      const ref = positionals[0].trim();
      const server = requiredString(values, 'server');
      const client = await ctx.client();
      const { action } = await verb.call(client, ref, server);
      return finishAction(ctx, client, action, flagOf(values, 'wait'), {
        label: `assign ${ref}`,
        done: `${verb.noun} ${ref} ${verb.doneAs ?? 'assigned to'} ${server}`,
        accepted: `assigning ${verb.noun} ${ref} to ${server}: action ${action.id} ${action.status}`,
      });
    },
  };
}

export function unassignCommand(
  verb: Verb & { call(client: ApiClient, id: string): Promise<{ action: Action }> },
): Command {
  return {
    name: 'unassign',
    summary: verb.summary,
    usage: 'ID|NAME [--wait]',
    args: [{ name: 'ID|NAME', required: true }],
    options: waitOption,
    examples: [verb.example],
    async run(ctx, { positionals, values }) {
      const ref = positionals[0].trim();
      const client = await ctx.client();
      const { action } = await verb.call(client, ref);
      return finishAction(ctx, client, action, flagOf(values, 'wait'), {
        label: `unassign ${ref}`,
        done: `${verb.noun} ${ref} unassigned`,
        accepted: `unassigning ${verb.noun} ${ref}: action ${action.id} ${action.status}`,
      });
    },
  };
}

export function setDnsPtrCommand<T>(
  verb: Verb & {
    ipHelp: string;
    call(client: ApiClient, id: string, body: { ip: string; dns_ptr: string | null }): Promise<T>;
    show(ctx: Context, result: T): void;
  },
): Command {
  return {
    name: 'set-dns-ptr',
    summary: verb.summary,
    usage: 'ID|NAME --ip ADDRESS (--dns-ptr NAME | --clear)',
    args: [{ name: 'ID|NAME', required: true }],
    options: {
      ip: { type: 'string', arg: 'ADDRESS', help: verb.ipHelp },
      'dns-ptr': { type: 'string', arg: 'NAME', help: 'the host name' },
      clear: { type: 'boolean', help: 'remove the name' },
    },
    examples: [verb.example],
    async run(ctx, { positionals, values }) {
      const name = stringOf(values, 'dns-ptr');
      if ((name === undefined) === !flagOf(values, 'clear')) throw new UsageError('give --dns-ptr NAME or --clear');
      const client = await ctx.client();
      const result = await verb.call(client, positionals[0].trim(), {
        ip: requiredString(values, 'ip'),
        dns_ptr: name ?? null,
      });
      verb.show(ctx, result);
      return 0;
    },
  };
}
