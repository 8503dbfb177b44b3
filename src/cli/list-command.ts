/**
 * The `list` verb of a resource: its filters, then `--limit`, `--cursor` and `--all` (every page), a table
 * or `-o json|yaml`, and a hint on stderr when more pages remain. Each resource says only what differs:
 * its filters, how they become the query, which endpoint answers and which columns show.
 */
import type { ApiClient } from '../client/index.ts';
import { flagOf, integerOf, stringOf, type Command, type Options, type Values } from './command.ts';
import { renderList, type Column } from './output.ts';
import { listPages } from './pagination.ts';
import { normalizeRegion } from './resolve.ts';

export interface ListCommandSpec<T> {
  /** The plural noun, e.g. `floating IPs`: "No floating IPs found.", "more floating IPs: …". */
  plural: string;
  summary: string;
  usage: string;
  /** The resource's own filters; `--limit`, `--cursor` and `--all` are added. */
  filters: Options;
  examples: string[];
  /** The filters as the endpoint's query (undefined: not sent). */
  query: (values: Values) => Record<string, string | undefined>;
  page: (
    client: ApiClient,
    query: Record<string, string | undefined>,
  ) => Promise<{ items: T[]; next_cursor: string | null | undefined }>;
  columns: (nowMs: number) => Column<T>[];
}

export function listCommand<T>(spec: ListCommandSpec<T>): Command {
  return {
    name: 'list',
    summary: spec.summary,
    usage: spec.usage,
    options: {
      ...spec.filters,
      limit: { type: 'string', arg: 'N', help: `${spec.plural} per page (1-500, default 50)` },
      cursor: { type: 'string', arg: 'CURSOR', help: 'start after this cursor' },
      all: { type: 'boolean', short: 'A', help: 'fetch every page' },
    },
    examples: spec.examples,
    async run(ctx, { values }) {
      const limit = integerOf(values, 'limit', { min: 1, max: 500 });
      const client = await ctx.client();
      const query = { ...spec.query(values), limit: limit === undefined ? undefined : String(limit) };
      const { items, nextCursor } = await listPages(
        (cursor) => spec.page(client, { ...query, cursor }),
        flagOf(values, 'all'),
        stringOf(values, 'cursor'),
      );
      ctx.out(renderList(ctx.output, spec.columns(ctx.now()), items, `No ${spec.plural} found.`));
      if (nextCursor) ctx.err(`more ${spec.plural}: pass --all, or --cursor ${nextCursor} for the next page\n`);
      return 0;
    },
  };
}

/** The filters most lists share: a label selector and a region. */
export const selectorFilter: Options = {
  selector: { type: 'string', short: 'l', arg: 'SELECTOR', help: 'label selector, e.g. env=prod' },
};

export function regionQuery(values: Values): string | undefined {
  const region = stringOf(values, 'region');
  return region === undefined ? undefined : normalizeRegion(region);
}
