// Lint enforces workflow determinism by tooling, not memory: workflows/ may import only contracts/,
// the Temporal workflow SDK and pure parts of src/; activities only as types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** Paths of src/ that do I/O or hold adapters; never imported by workflow code. */
export const workflowForbiddenPatterns = [
  '**/activities/**',
  '**/src/storage/**',
  '**/src/execution/**',
  '**/src/data/**',
  '**/src/stack/**',
  '**/src/config/**',
  '**/src/monitoring/**',
  '**/src/models/**',
  '**/src/features/store*',
  '**/workers/**',
  '**/cli/**',
  'pg',
  'pg-copy-streams',
  'ioredis',
  'koffi',
  'onnxruntime-node',
  '@alpacahq/*',
  '@slack/*',
  '@temporalio/worker',
  '@temporalio/client',
  '@temporalio/activity',
  'prom-client',
];

export const workflowRules = {
  'no-restricted-imports': [
    'error',
    {
      paths: nodeBuiltins.map((name) => ({
        name,
        message: 'Workflows must be deterministic: Node built-ins are not allowed in workflows/.',
      })),
      patterns: [
        {
          group: workflowForbiddenPatterns,
          allowTypeImports: true,
          message:
            'Workflows must be deterministic: import activities, adapters, storage and broker code only with `import type`.',
        },
      ],
    },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'setInterval', message: 'Use workflow timers (sleep/condition) instead.' },
    { name: 'process', message: 'Workflows cannot read the process environment.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bench/results/**', 'test/fixtures/**', '.data/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/test return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  { files: ['workflows/**/*.ts'], rules: workflowRules },
);
