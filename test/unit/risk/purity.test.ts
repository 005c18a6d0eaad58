/**
 * The risk engine, the strategy code and the order/event model run inside Temporal workflows (the
 * TradingSession's risk gate), so their whole import graph must be deterministic: no Node built-ins, no I/O
 * packages, no wall clock, no Math.random. This walks the graph from each entry point.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');
const ENTRIES = [
  'src/risk/index.ts',
  'src/strategy/reference-ai.ts',
  'src/strategy/order-factory.ts',
  'src/model/events.ts',
  'src/model/ledger.ts',
  'src/model/money.ts',
  'src/model/command.ts',
];
const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const c of [`${base}.ts`, `${base}/index.ts`]) if (existsSync(c)) return c;
  return undefined;
}

function walk(entry: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  const file = resolve(root, entry);
  if (seen.has(file)) return seen;
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  seen.set(file, problems);
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  if (
    /Date\.now\(|new Date\(\s*\)|Math\.random\(|performance\.now\(|process\.|setTimeout\(|setInterval\(/.test(
      code,
    )
  )
    problems.push('uses the clock, randomness, timers or process');
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
    const isType = Boolean(m[2]);
    const spec = m[3]!;
    if (spec.startsWith('.')) {
      const target = resolveLocal(file, spec);
      if (!target) problems.push(`unresolved import ${spec}`);
      else if (!isType) walk(relative(root, target), seen);
    } else if (!isType) {
      problems.push(BUILTINS.has(spec) ? `imports Node built-in ${spec}` : `imports package ${spec}`);
    }
  }
  return seen;
}

describe('workflow-safe modules', () => {
  for (const entry of ENTRIES) {
    test(`when ${entry} is imported by a workflow, then its import graph is deterministic and I/O-free`, () => {
      const graph = walk(entry);
      const bad = [...graph.entries()]
        .filter(([, p]) => p.length > 0)
        .map(([f, p]) => `${relative(root, f)}: ${p.join(', ')}`);
      assert.deepEqual(bad, []);
      assert.ok(graph.size >= 1);
    });
  }
});
