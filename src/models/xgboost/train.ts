import { ValidationError } from '../../model/errors';
import { Booster, type DMatrix, type XGBParams } from './booster';

/** Gradient and Hessian of the loss with respect to the raw margin, one per row of the training set. */
export interface GradHess {
  grad: Float32Array;
  hess: Float32Array;
}

/** A custom objective computed in TypeScript: receives the current margins on the training rows. */
export type CustomObjective = (margins: Float32Array) => GradHess;

/** A custom evaluation metric on one eval set's margins; name it and say whether bigger is better. */
export interface CustomMetric {
  name: string;
  maximize: boolean;
  /** `setName` is the eval set's name, so the metric can pick that set's labels / returns. */
  evaluate(margins: Float32Array, setName: string): number;
}

export interface TrainState {
  /** Rounds completed so far (= trees for single-output models). */
  round: number;
  bestIteration: number;
  bestScore: number | null;
  history: Array<Record<string, number>>;
}

export interface TrainOptions {
  params: XGBParams;
  dtrain: DMatrix;
  rounds: number;
  evals?: Array<{ name: string; data: DMatrix }>;
  /** Stop when the last eval set's metric has not improved for this many rounds. */
  earlyStoppingRounds?: number;
  objective?: CustomObjective;
  metric?: CustomMetric;
  /** Continue from a checkpoint: the saved model and the training state at that round. */
  resume?: { model: Buffer; state: TrainState };
  /** Called after every round (heartbeat + checkpoint hook); may be async. */
  onRound?: (state: TrainState, booster: Booster) => void | Promise<void>;
}

export interface TrainResult {
  booster: Booster;
  state: TrainState;
  stoppedEarly: boolean;
}

/**
 * The training loop, in TypeScript so a custom objective, a custom metric, early stopping and per-round
 * checkpoints all live in one place. With the built-in objective each round is one native call.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  if (!Number.isInteger(opts.rounds) || opts.rounds <= 0)
    throw new ValidationError('rounds', `must be a positive integer, got ${opts.rounds}`);
  const evals = opts.evals ?? [];
  if (opts.earlyStoppingRounds !== undefined && evals.length === 0) {
    throw new ValidationError('earlyStoppingRounds', 'needs at least one eval set');
  }
  const params: XGBParams = { ...opts.params };
  // A custom objective supplies its own gradients; XGBoost must not add a base score link on top.
  if (opts.objective && params.objective === undefined) params.objective = 'reg:squarederror';
  if (opts.objective && params.base_score === undefined) params.base_score = 0;
  if (opts.metric) params.disable_default_eval_metric = 1;

  const cache = [opts.dtrain, ...evals.map((e) => e.data)];
  let booster: Booster;
  let state: TrainState;
  if (opts.resume) {
    booster = Booster.create(params, cache);
    try {
      booster.loadBuffer(opts.resume.model);
      // Loading replaces the learner's parameters with the saved ones; ours (threads, device) win.
      booster.setParams(params);
    } catch (err) {
      booster.free();
      throw err;
    }
    state = structuredClone(opts.resume.state);
    if (booster.boostedRounds !== state.round) {
      const r = booster.boostedRounds;
      booster.free();
      throw new ValidationError(
        'resume.state.round',
        `checkpoint says ${state.round} rounds but the model has ${r}`,
      );
    }
  } else {
    booster = Booster.create(params, cache);
    state = { round: 0, bestIteration: -1, bestScore: null, history: [] };
  }

  let stoppedEarly = false;
  try {
    while (state.round < opts.rounds) {
      const iter = state.round;
      if (opts.objective) {
        const margins = booster.predict(opts.dtrain, { type: 'margin', training: true });
        const { grad, hess } = opts.objective(margins);
        booster.boostOneIter(opts.dtrain, grad, hess);
      } else {
        booster.updateOneIter(iter, opts.dtrain);
      }
      state.round = iter + 1;
      if (evals.length > 0) {
        const row: Record<string, number> = opts.metric ? {} : booster.evalOneIter(iter, evals);
        if (opts.metric) {
          for (const e of evals)
            row[`${e.name}-${opts.metric.name}`] = opts.metric.evaluate(
              booster.predict(e.data, { type: 'margin' }),
              e.name,
            );
        }
        state.history.push(row);
        const keys = Object.keys(row);
        const score = row[keys[keys.length - 1]!]!;
        const maximize = opts.metric?.maximize ?? isMaximizeMetric(keys[keys.length - 1]!);
        if (state.bestScore === null || (maximize ? score > state.bestScore : score < state.bestScore)) {
          state.bestScore = score;
          state.bestIteration = iter;
        }
      }
      if (opts.onRound) await opts.onRound(structuredClone(state), booster);
      if (
        opts.earlyStoppingRounds !== undefined &&
        state.round - 1 - state.bestIteration >= opts.earlyStoppingRounds
      ) {
        stoppedEarly = true;
        break;
      }
    }
  } catch (err) {
    booster.free();
    throw err;
  }
  if (state.bestIteration < 0) state.bestIteration = state.round - 1;
  return { booster, state, stoppedEarly };
}

function isMaximizeMetric(key: string): boolean {
  const m = key.slice(key.indexOf('-') + 1);
  return /^(auc|aucpr|map|ndcg|pre)/.test(m);
}
