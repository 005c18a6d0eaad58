import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** `npm run bench -- <name> [args]` runs bench/<name>.ts; with no name, lists the benchmarks. */
async function main() {
  const [name, ...rest] = process.argv.slice(2);
  const available = readdirSync(__dirname)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'lib.ts'].includes(f))
    .map((f) => f.replace(/\.ts$/, ''));
  if (!name || name === '--help') {
    console.log(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}`);
    return;
  }
  const file = resolve(__dirname, `${name}.ts`);
  if (!existsSync(file)) {
    console.error(`bench: no benchmark "${name}"; available: ${available.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  process.argv = [process.argv[0]!, file, ...rest];
  const mod = (await import(file)) as { main?: (args: string[]) => Promise<void> };
  if (typeof mod.main === 'function') await mod.main(rest);
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
