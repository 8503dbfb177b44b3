import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vmcloud from './eslint-rules/boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'web/dist/', 'images/build/', 'packages/*/dist/', 'packages/*/.build/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        'TSEnumDeclaration',
        'TSModuleDeclaration[declare!=true]',
        'TSParameterProperty',
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { vmcloud },
    rules: { 'vmcloud/import-boundaries': 'error', 'vmcloud/table-ownership': 'error' },
  },
);
