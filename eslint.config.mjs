// Flat ESLint config for the whole workspace. Typed rules (no-floating-promises, switch exhaustiveness)
// need the TypeScript project service; module boundaries come from each project's Nx tags.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// Who may import whom. A layer lists the layers it may depend on (itself included where allowed).
const layers = {
  'layer:common': ['layer:common'],
  'layer:foundation': ['layer:common', 'layer:foundation'],
  'layer:wal-core': ['layer:common', 'layer:foundation', 'layer:wal-core'],
  'layer:wal-backend': ['layer:common', 'layer:foundation', 'layer:wal-core'],
  'layer:service': ['layer:common', 'layer:foundation', 'layer:wal-core', 'layer:service'],
  'layer:client': ['layer:common', 'layer:foundation'],
  'layer:test': ['layer:common', 'layer:foundation', 'layer:wal-core', 'layer:wal-backend', 'layer:test'],
  // Apps may embed other apps (the CLI's `start` runs the standalone server); packages never import apps.
  'layer:app': [
    'layer:common',
    'layer:foundation',
    'layer:wal-core',
    'layer:wal-backend',
    'layer:service',
    'layer:client',
    'layer:app',
  ],
  // Dev tooling (the benchmark harness) may use anything, testkit included.
  'layer:tool': [
    'layer:common',
    'layer:foundation',
    'layer:wal-core',
    'layer:wal-backend',
    'layer:service',
    'layer:client',
    'layer:test',
    'layer:app',
  ],
};
const boundaries = (extra) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: Object.entries(layers).map(([sourceTag, allowed]) => ({
      sourceTag,
      onlyDependOnLibsWithTags: [...allowed, ...extra],
    })),
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/src/gen/**',
      '**/coverage/**',
      '.nx/**',
      '.tools/**',
      '.cache/**',
      // Personal scratch files next to a package (git-ignored): never linted.
      '**/.scratch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object instead of an enum.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@streamsvc/*/src/*', '@streamsvc/*/dist/*'], message: 'Import the package entry point.' },
          ],
        },
      ],
      '@nx/enforce-module-boundaries': boundaries([]),
    },
  },
  {
    // Packages never read the environment: apps parse configuration and pass typed objects down.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/testkit/**', '**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Packages take configuration as arguments; only apps read process.env.',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', 'packages/testkit/**/*.ts', 'packages/wal-conformance/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
      // Tests may also use a concrete backend (wal-memory) to exercise services for real.
      '@nx/enforce-module-boundaries': boundaries(['layer:test', 'layer:wal-backend']),
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
      },
    },
  },
  prettier,
);
