import { z } from 'zod';

/**
 * What to train: JSON-safe, stored in the registry and carried through workflow inputs (mirrored as plain types in
 * contracts/retrain.ts). One discriminated union on `kind`; every kind is trained, evaluated walk-forward, gated,
 * exported to ONNX and served through the same RetrainWorkflow.
 */
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

/** Fields every neural net shares: a window of feature rows in, three ordered quantiles (10/50/90%) out. */
const nnFields = {
  /** Feature rows per input window (consecutive bars of the feature set's base timeframe, the last one at t). */
  window: z.number().int().min(1).max(512),
  epochs: z.number().int().positive().max(10_000),
  batchSize: z.number().int().positive().max(65_536).optional(),
  learningRate: z.number().positive().max(1).optional(),
  seed: z.number().int().optional(),
  /** Round-trip cost as a fraction of notional: the gate's P&L uses it. */
  costRate: z.number().nonnegative(),
};

export const RecurrentSpecSchema = z
  .object({
    kind: z.enum(['lstm', 'gru']),
    ...nnFields,
    units: z.number().int().positive().max(1024),
  })
  .strict();
export type RecurrentSpec = z.infer<typeof RecurrentSpecSchema>;

const attentionFields = {
  ...nnFields,
  dModel: z.number().int().positive().max(1024),
  heads: z.number().int().positive().max(64),
};
const headsDivide = (s: { dModel: number; heads: number }) => s.dModel % s.heads === 0;
const headsMessage = { message: 'dModel must be divisible by heads', path: ['heads'] };

export const TransformerSpecSchema = z
  .object({
    kind: z.literal('transformer'),
    ...attentionFields,
    /** Encoder blocks (self-attention + feed-forward, each with a residual connection and layer norm). */
    layers: z.number().int().min(1).max(8),
  })
  .strict()
  .refine(headsDivide, headsMessage);
export type TransformerSpec = z.infer<typeof TransformerSpecSchema>;

export const MtfAttentionSpecSchema = z
  .object({ kind: z.literal('mtf-attention'), ...attentionFields })
  .strict()
  .refine(headsDivide, headsMessage);
export type MtfAttentionSpec = z.infer<typeof MtfAttentionSpecSchema>;

export const ModelSpecSchema = z.discriminatedUnion('kind', [
  XGBoostSpecSchema,
  RecurrentSpecSchema,
  TransformerSpecSchema,
  MtfAttentionSpecSchema,
]);
/**
 * An ensemble of registered models (not trained: composed). Member weights ∝ each member's recent out-of-sample
 * Sharpe (losers get 0); a trade needs `minConsensus` members agreeing with the weighted direction.
 */
export const EnsembleSpecSchema = z
  .object({
    kind: z.literal('ensemble'),
    members: z
      .array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a model id'))
      .min(2)
      .max(32),
    minConsensus: z.number().int().min(1),
    /** Most recent out-of-sample days that set the weights (default 20). */
    lookback: z.number().int().min(2).optional(),
    /** |tanh(member z-score)| below this is no opinion (default 0.05). */
    minConviction: z.number().min(0).max(1).optional(),
  })
  .strict()
  .refine((s) => s.minConsensus <= s.members.length, {
    message: 'minConsensus cannot exceed the number of members',
    path: ['minConsensus'],
  })
  .refine((s) => new Set(s.members).size === s.members.length, {
    message: 'members must be distinct',
    path: ['members'],
  });
export type EnsembleSpec = z.infer<typeof EnsembleSpecSchema>;

export type NeuralSpec = RecurrentSpec | TransformerSpec | MtfAttentionSpec;
export type ModelSpec = z.infer<typeof ModelSpecSchema>;
export type ModelKind = ModelSpec['kind'];
export const MODEL_KINDS: readonly ModelKind[] = ['xgboost', 'lstm', 'gru', 'transformer', 'mtf-attention'];

/** Rows per input window: 1 for row models (XGBoost), `window` for the neural nets. */
export function specWindow(spec: ModelSpec): number {
  return spec.kind === 'xgboost' ? 1 : spec.window;
}

/** The first problem of a spec as `spec.<path>: <message>`, or the parsed spec. */
export function parseModelSpec(spec: unknown): { ok: true; spec: ModelSpec } | { ok: false; error: string } {
  const r = ModelSpecSchema.safeParse(spec);
  if (r.success) return { ok: true, spec: r.data };
  const i = r.error.issues[0]!;
  return { ok: false, error: `spec.${i.path.join('.') || 'kind'}: ${i.message}` };
}

export const DEFAULT_XGBOOST_SPEC: XGBoostSpec = {
  kind: 'xgboost',
  objective: 'dollar_profit',
  rounds: 30,
  params: { max_depth: 3, eta: 0.1, subsample: 0.8, min_child_weight: 1, lambda: 1, nthread: 1, seed: 7 },
  costRate: 0.0001,
  positionPenalty: 0.0005,
};

/** Small defaults per kind (what `trader models retrain --kind K` trains); a --spec file overrides them. */
export const DEFAULT_SPECS: { readonly [K in ModelKind]: ModelSpec & { kind: K } } = {
  xgboost: DEFAULT_XGBOOST_SPEC,
  lstm: { kind: 'lstm', window: 16, units: 16, epochs: 8, batchSize: 128, seed: 1, costRate: 0.0001 },
  gru: { kind: 'gru', window: 16, units: 16, epochs: 8, batchSize: 128, seed: 1, costRate: 0.0001 },
  transformer: {
    kind: 'transformer',
    window: 16,
    dModel: 16,
    heads: 2,
    layers: 1,
    epochs: 8,
    batchSize: 128,
    seed: 1,
    costRate: 0.0001,
  },
  'mtf-attention': {
    kind: 'mtf-attention',
    window: 4,
    dModel: 16,
    heads: 2,
    epochs: 8,
    batchSize: 128,
    seed: 1,
    costRate: 0.0001,
  },
};
