import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const root = resolve(__dirname, '../../..');

/** Lints files in a scratch project with the project's own eslint.config.mjs applied to a workflows/ folder. */
async function lintWorkflow(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'lint-'));
  mkdirSync(join(dir, 'workflows'));
  mkdirSync(join(dir, 'activities'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'node16',
        moduleResolution: 'node16',
        types: [],
        skipLibCheck: true,
      },
      include: ['**/*.ts'],
    }),
  );
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const cfg = (await import(resolve(root, 'eslint.config.mjs'))) as {
    workflowRules: Record<string, unknown>;
  };
  const tseslint = (await import('typescript-eslint')).default;
  const eslint = new ESLint({
    cwd: dir,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: {
          parser: tseslint.parser,
          parserOptions: { project: './tsconfig.json', tsconfigRootDir: dir },
        },
        plugins: { '@typescript-eslint': tseslint.plugin as never },
        rules: { '@typescript-eslint/no-floating-promises': 'error' },
      },
      { files: ['workflows/**/*.ts'], rules: cfg.workflowRules as never },
    ],
  });
  const results = await eslint.lintFiles(['workflows/*.ts']);
  rmSync(dir, { recursive: true, force: true });
  return results.flatMap((r) =>
    r.messages.map((m) => ({ rule: m.ruleId, message: m.message, file: r.filePath })),
  );
}

describe('workflow determinism lint', () => {
  test('when a workflow imports fs, then the lint rule rejects it', async () => {
    const msgs = await lintWorkflow({
      'workflows/bad.workflow.ts':
        "import { readFileSync } from 'fs';\nexport async function bad() { return readFileSync('x'); }\n",
    });
    assert.ok(
      msgs.some((m) => m.rule === 'no-restricted-imports' && /Node built-ins/.test(m.message)),
      JSON.stringify(msgs),
    );
  });

  test('when a workflow imports node:crypto or an activity by value, then it is rejected; a type import is allowed', async () => {
    const msgs = await lintWorkflow({
      'activities/a.activities.ts': 'export async function act(): Promise<number> { return 1; }\n',
      'workflows/w.workflow.ts':
        "import { randomUUID } from 'node:crypto';\nimport { act } from '../activities/a.activities';\nexport async function w() { return [randomUUID(), await act()]; }\n",
      'workflows/ok.workflow.ts':
        "import type { act } from '../activities/a.activities';\nexport type Acts = { act: typeof act };\nexport async function ok() { return 1; }\n",
    });
    const bad = msgs.filter((m) => m.file.endsWith('w.workflow.ts') && m.rule === 'no-restricted-imports');
    assert.equal(bad.length, 2, JSON.stringify(msgs));
    assert.deepEqual(
      msgs.filter((m) => m.file.endsWith('ok.workflow.ts')),
      [],
    );
  });

  test('when a promise floats, then no-floating-promises is an error', async () => {
    const msgs = await lintWorkflow({
      'workflows/f.workflow.ts':
        'async function later() { return 1; }\nexport async function f() { later(); }\n',
    });
    assert.ok(
      msgs.some((m) => m.rule === '@typescript-eslint/no-floating-promises'),
      JSON.stringify(msgs),
    );
  });

  test('when the project config is asked about workflows/, then it applies the determinism rules there', async () => {
    const eslint = new ESLint({ cwd: root });
    const cfg = (await eslint.calculateConfigForFile(resolve(root, 'workflows/skeleton.workflow.ts'))) as {
      rules: Record<string, unknown>;
    };
    assert.ok(cfg.rules['no-restricted-imports']);
    assert.deepEqual((cfg.rules['@typescript-eslint/no-floating-promises'] as unknown[])[0], 2);
  });
});
