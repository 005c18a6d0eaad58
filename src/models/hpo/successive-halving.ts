import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ValidationError } from '../../model/errors';

export type ParamSpace = Record<
  string,
  | { kind: 'int'; min: number; max: number }
  | { kind: 'float'; min: number; max: number; log?: boolean }
  | { kind: 'choice'; values: Array<string | number> }
>;

export interface Trial {
  id: number;
  params: Record<string, string | number>;
  /** Score at each rung reached (bigger is better), e.g. walk-forward net P&L. */
  scores: number[];
}

export interface HalvingState {
  version: 1;
  seed: number;
  trials: Trial[];
  rung: number;
  /** Resource units (e.g. boosting rounds) spent so far. */
  spent: number;
  done: boolean;
}

export interface HalvingOptions {
  space: ParamSpace;
  /** Trials sampled at the first rung. */
  trials: number;
  /** Resource at rung 0 (e.g. rounds); multiplied by `eta` at each rung. */
  minResource: number;
  eta?: number;
  /** Stop when this much resource has been spent. */
  budget: number;
  seed?: number;
  /** JSON file the state is written to after every evaluation; an existing file is resumed. */
  statePath?: string;
  /** Evaluates params with `resource` units, returns a score (bigger is better). */
  evaluate: (params: Record<string, string | number>, resource: number) => Promise<number>;
}

function sampler(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function sampleParams(space: ParamSpace, rnd: () => number): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, p] of Object.entries(space)) {
    if (p.kind === 'int') out[k] = p.min + Math.floor(rnd() * (p.max - p.min + 1));
    else if (p.kind === 'float')
      out[k] = p.log
        ? Math.exp(Math.log(p.min) + rnd() * (Math.log(p.max) - Math.log(p.min)))
        : p.min + rnd() * (p.max - p.min);
    else out[k] = p.values[Math.floor(rnd() * p.values.length)]!;
  }
  return out;
}

/**
 * Successive halving: sample `trials` configurations, evaluate all with a small resource, keep the best 1/eta,
 * multiply the resource by eta, repeat until one is left or the budget is spent. The state is saved after every
 * evaluation, so a crashed search resumes without re-evaluating finished (trial, rung) pairs.
 */
export async function successiveHalving(opts: HalvingOptions): Promise<{ best: Trial; state: HalvingState }> {
  const eta = opts.eta ?? 3;
  if (opts.trials < 1) throw new ValidationError('trials', `must be >= 1, got ${opts.trials}`);
  if (opts.budget < opts.minResource)
    throw new ValidationError('budget', `${opts.budget} is below one evaluation (${opts.minResource})`);
  let state: HalvingState;
  if (opts.statePath && existsSync(opts.statePath)) {
    state = JSON.parse(readFileSync(opts.statePath, 'utf8')) as HalvingState;
  } else {
    const rnd = sampler(opts.seed ?? 1);
    state = {
      version: 1,
      seed: opts.seed ?? 1,
      trials: Array.from({ length: opts.trials }, (_, id) => ({
        id,
        params: sampleParams(opts.space, rnd),
        scores: [],
      })),
      rung: 0,
      spent: 0,
      done: false,
    };
  }
  const save = () => {
    if (!opts.statePath) return;
    // Write-then-rename: a crash mid-write never leaves a truncated state file.
    writeFileSync(`${opts.statePath}.tmp`, JSON.stringify(state));
    renameSync(`${opts.statePath}.tmp`, opts.statePath);
  };
  while (!state.done) {
    const resource = opts.minResource * eta ** state.rung;
    const alive = survivors(state, eta);
    for (const t of alive) {
      if (t.scores.length > state.rung) continue; // evaluated before a restart
      if (state.spent + resource > opts.budget) {
        state.done = true;
        break;
      }
      t.scores[state.rung] = await opts.evaluate(t.params, resource);
      state.spent += resource;
      save();
    }
    if (state.done) break;
    if (alive.length <= 1) state.done = true;
    else state.rung++;
    save();
  }
  const best = [...state.trials].sort(
    (a, b) =>
      b.scores.length - a.scores.length || (b.scores.at(-1) ?? -Infinity) - (a.scores.at(-1) ?? -Infinity),
  )[0]!;
  return { best, state };
}

/** Trials still in the race at the current rung: the top 1/eta of the previous rung's scores. */
function survivors(state: HalvingState, eta: number): Trial[] {
  let alive = state.trials;
  for (let r = 0; r < state.rung; r++) {
    const keep = Math.max(1, Math.floor(alive.length / eta));
    alive = [...alive].sort((a, b) => (b.scores[r] ?? -Infinity) - (a.scores[r] ?? -Infinity)).slice(0, keep);
  }
  return alive;
}
