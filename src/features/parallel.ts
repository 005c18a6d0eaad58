/**
 * Feature computation for many symbols on all cores: a small pool of worker threads, one symbol per
 * job, input columns transferred (not copied) in and the matrix transferred back.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FeatureSet } from './definition';
import type { FeatureJob, FeatureJobResult, MinuteColumns } from './parallel-protocol';

export interface SymbolMinutes {
  readonly symbol: string;
  readonly minutes: MinuteColumns;
}

export interface ParallelOptions {
  readonly threads?: number;
  readonly withLabels?: boolean;
  readonly returnValues?: boolean;
  /** Called as each symbol finishes (in completion order). */
  readonly onResult?: (r: FeatureJobResult, done: number, total: number) => void | Promise<void>;
}

/**
 * Starts a worker that can run TypeScript. Under tsx the entry is a .ts file: the worker registers tsx's
 * require hook first (loader flags in a Worker's execArgv are not honoured on Node 20).
 */
export function startFeatureWorker(): Worker {
  const isTs = __filename.endsWith('.ts');
  const entry = require.resolve(isTs ? './worker.ts' : './worker.js');
  if (!isTs) return new Worker(entry);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, { eval: true });
}

/**
 * Computes the matrix of every symbol with `threads` workers (default: all cores). Input arrays are
 * transferred to the workers and are unusable in the caller afterwards. Rejects on the first failure.
 */
export async function computeFeatureMatrices(
  inputs: Iterable<SymbolMinutes>,
  set: FeatureSet,
  opts: ParallelOptions = {},
): Promise<FeatureJobResult[]> {
  const queue = [...inputs];
  const total = queue.length;
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), total));
  const results: FeatureJobResult[] = [];
  if (total === 0) return results;
  const definition = {
    name: set.name,
    baseTimeframe: set.baseTimeframe,
    features: set.features,
    labels: set.labels,
  };
  let nextId = 0;
  let done = 0;
  const workers = Array.from({ length: threads }, startFeatureWorker);
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              const input = queue.shift();
              if (!input) return resolve();
              const m = input.minutes;
              const job: FeatureJob = {
                id: nextId++,
                symbol: input.symbol,
                minutes: m,
                set: definition,
                version: set.version,
                withLabels: opts.withLabels ?? false,
                returnValues: opts.returnValues ?? true,
              };
              // A set: columns may share one buffer, and a buffer can be transferred only once.
              w.postMessage(job, [
                ...new Set([
                  m.ts.buffer,
                  m.open.buffer,
                  m.high.buffer,
                  m.low.buffer,
                  m.close.buffer,
                  m.volume.buffer,
                ]),
              ] as ArrayBuffer[]);
            };
            w.on('message', (r: FeatureJobResult) => {
              if (r.error)
                return reject(new Error(`features for ${r.symbol} failed in a worker: ${r.error}`));
              results.push(r);
              done++;
              Promise.resolve(opts.onResult?.(r, done, total)).then(send, reject);
            });
            w.on('error', reject);
            w.on('exit', (code) => {
              if (code !== 0) reject(new Error(`feature worker exited with code ${code}`));
            });
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.sort((a, b) => a.id - b.id);
}
