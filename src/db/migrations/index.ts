import type { Migration, MigrationProvider } from 'kysely';
import type { DialectName } from '../connection.ts';
import { initialMigration } from './001_initial.ts';

/** Every migration, in order. Add a new file and one line here; never edit a released migration. */
export function migrationProvider(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '001_initial': initialMigration(dialect),
      };
    },
  };
}
