import { z } from 'zod';

/** What to train: JSON-safe, stored in the registry and carried through workflow inputs. */
export const XGBoostSpecSchema = z.object({
  kind: z.literal('xgboost'),
  objective: z.enum(['dollar_profit', 'squared_error']),
  rounds: z.number().int().positive(),
  earlyStoppingRounds: z.number().int().positive().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** Round-trip cost as a fraction of notional (spread + fees + slippage). */
  costRate: z.number().nonnegative(),
  positionPenalty: z.number().nonnegative(),
});
export type XGBoostSpec = z.infer<typeof XGBoostSpecSchema>;
export type ModelSpec = XGBoostSpec;

export const DEFAULT_XGBOOST_SPEC: XGBoostSpec = {
  kind: 'xgboost',
  objective: 'dollar_profit',
  rounds: 30,
  params: { max_depth: 3, eta: 0.1, subsample: 0.8, min_child_weight: 1, lambda: 1, nthread: 1, seed: 7 },
  costRate: 0.0001,
  positionPenalty: 0.0005,
};
