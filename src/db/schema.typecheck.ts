/**
 * Compile-time proof that the row types the code uses (`Database`, assembled in schema.ts from every
 * domain's tables) are what the migrations create (`DB`, generated from a migrated PostgreSQL schema by
 * `npm run db:types`): same tables, same columns, same select types and nullability. `tsc` fails here
 * when one drifts from the other. Generated defaults (`Generated<…>`) may differ on insert, not on select.
 */
import type { Selectable } from 'kysely';
import type { Database } from './schema.ts';
import type { DB } from './generated-schema.ts';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

type TablesMatch = Same<keyof Database, keyof DB>;
type ColumnsMatch = { [T in keyof DB & keyof Database]: Same<keyof Database[T], keyof DB[T]> };
type RowsMatch = { [T in keyof DB & keyof Database]: Same<Selectable<Database[T]>, Selectable<DB[T]>> };

export const tablesMatch: TablesMatch = true;
export const columnsMatch: ColumnsMatch = Object.fromEntries([]) as { [T in keyof ColumnsMatch]: true };
export const rowsMatch: RowsMatch = Object.fromEntries([]) as { [T in keyof RowsMatch]: true };
