/** Shapes every resource shares: problems, ids, labels, timestamps, pages. */
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from 'typebox';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({
      description:
        'invalid | not_found | conflict | forbidden | unauthenticated | unavailable | rate_limited | precondition_failed | internal',
    }),
    reason: Type.Optional(Type.String({ description: 'A finer, stable reason, e.g. quota_exceeded' })),
    request_id: Type.Union([Type.String(), Type.Null()]),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, description: 'RFC 9457 problem document' },
);
export type Problem = Static<typeof Problem>;

/** ISO 8601 UTC timestamp, e.g. 2026-11-30T12:00:00.000Z. */
export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A resource id in the path: `srv_…`, `act_…`, or a name where the route says so. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export type IdParams = Static<typeof IdParams>;

export const Labels = Type.Record(Type.String(), Type.String(), {
  description: 'Kubernetes-style labels: keys [prefix/]name, values up to 63 characters',
});
export type Labels = Static<typeof Labels>;

/** Query values arrive as text; a limit is a whole number. */
export const LimitQuery = Type.String({ pattern: '^[0-9]{1,4}$', description: 'page size' });
export const CursorQuery = Type.String({ maxLength: 200, description: 'next_cursor of the previous page' });
export const NextCursor = Type.Union([Type.String(), Type.Null()], {
  description: 'pass as `cursor` for the next page; null on the last page',
});

/** A text without control characters (C0, DEL, U+2028/U+2029): names, descriptions, comments. */
export const plainTextPattern = '^[^\\u0000-\\u001f\\u007f\\u2028\\u2029]*$';

export const RegionCode = Type.String({ minLength: 1, maxLength: 16, description: 'Region code, e.g. fra1' });

/** A union of string literals from a tuple, keeping each literal in the static type. */
type LiteralsOf<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };
export function Literals<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
): TUnion<LiteralsOf<T>> {
  return Type.Union(values.map((value) => Type.Literal(value)) as never, options) as never;
}
