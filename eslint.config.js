// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/.test-results/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // A library never writes to the console: observability goes through events.
    files: ['packages/*/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // One filename style across the repo: kebab-case.
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: {
      local: {
        rules: {
          'kebab-case-filename': {
            meta: { type: 'suggestion', schema: [] },
            create(context) {
              const base = context.filename.split(/[\\/]/).pop() ?? '';
              const stem = base.replace(/(\.(test|bench|config|d))?\.(ts|mts|cts|mjs|cjs|js)$/, '');
              if (!/^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9-]+)*$/.test(stem)) {
                context.report({ loc: { line: 1, column: 0 }, message: `File name '${base}' must be kebab-case` });
              }
              return {};
            },
          },
        },
      },
    },
    rules: { 'local/kebab-case-filename': 'error' },
  },
);
