/**
 * From a trained model to what is served: the ONNX export (XGBoost: the booster as a tree ensemble, its
 * walk-forward fold models as an interval graph; the neural nets: their graphs), the parity check of ONNX Runtime
 * against the training runtime on the dataset, and the serving contract the registry records. Used by the
 * retrain workflow's registration activity and by walk-forward model backtests, so a backtest's window models
 * are served exactly as a live session serves a champion.
 */
import { readFileSync } from 'node:fs';
import { datasetBarMs, type Dataset } from '../dataset';
import { selectTfBackend } from '../nn/backend';
import { netFromState } from '../nn/nets';
import type { NetState } from '../nn/quantile-net';
import { gatherWindows, windowEndRows } from '../nn/windows';
import type { FeatureImportance } from '../registry/registry';
import { sha256, type ServingInfo } from '../serving/served-model';
import type { NeuralSpec, XGBoostSpec } from '../spec';
import { predictScores, std } from '../validation/evaluate';
import { Booster } from '../xgboost';
import { OnnxScorer, maxAbsDiff } from './serving';
import { xgboostEnsembleToOnnx, xgboostToOnnx } from './xgboost-export';

/** Parity tolerance between the training runtime and the ONNX export served by ONNX Runtime (the registry refuses worse). */
export const ONNX_PARITY_TOLERANCE = 1e-5;
/**
 * Neural nets where either side ran on a GPU: TensorFlow and ONNX Runtime's CUDA provider multiply float32
 * matrices in TF32 on recent GPUs (10-bit mantissa), so 1e-5 is out of reach there; 2e-3 standard deviations of the
 * forward return is still far below any decision threshold. On CPU / wasm the nets match to ~1e-6.
 */
export const NN_GPU_PARITY_TOLERANCE = 2e-3;
/** Windows the neural-net parity check scores (evenly spaced over the dataset). */
const NN_PARITY_ROWS = 4096;

/** The native artifact of a neural model: the net (spec, standardisation, weights) and its label scale. */
export interface NeuralArtifact {
  state: NetState;
  labelScale: number;
  backend: string;
}

export interface Exported {
  onnx: Uint8Array;
  intervals?: Uint8Array;
  serving: ServingInfo;
  importance: FeatureImportance | null;
}

export async function exportXGBoost(
  id: string,
  spec: XGBoostSpec,
  ds: Dataset,
  native: Buffer,
  foldModelPaths: readonly string[] = [],
): Promise<Exported> {
  const booster = Booster.fromBuffer(native);
  let nativeScores: Float32Array;
  let gain: Record<string, number>;
  try {
    nativeScores = predictScores(
      { booster, state: { round: 0, bestIteration: 0, bestScore: null, history: [] }, labelScale: 1 },
      ds,
    );
    gain = booster.featureImportance('gain', ds.featureNames);
  } finally {
    booster.free();
  }
  const onnx = xgboostToOnnx(native, {
    output: 'margin',
    numFeatures: ds.ncol,
    metadata: { modelId: id, featureNames: ds.featureNames.join(',') },
  });
  const scorer = await OnnxScorer.create(onnx, ds.ncol);
  let parity: number;
  try {
    parity = maxAbsDiff(await scorer.score(ds.X, ds.nrow), nativeScores);
  } finally {
    await scorer.close();
  }
  const foldJson = foldModelPaths.map((p) => readFileSync(p));
  const intervals =
    foldJson.length > 1
      ? xgboostEnsembleToOnnx(foldJson, { numFeatures: ds.ncol, metadata: { modelId: id } })
      : undefined;
  return {
    onnx,
    intervals,
    importance: { method: 'xgboost-gain', values: gain },
    serving: {
      window: 1,
      horizonMinutes: ds.horizonMinutes,
      barMs: datasetBarMs(ds.featureSet),
      output: 'score',
      scoreUnits: spec.objective === 'squared_error' ? 'return-sd' : 'position-margin',
      labelScale: std(ds.forwardReturn),
      onnxSha256: sha256(onnx),
      ...(intervals
        ? {
            intervals: {
              kind: 'fold-spread' as const,
              folds: foldJson.length,
              onnxSha256: sha256(intervals),
            },
          }
        : {}),
      parity: {
        runtime: 'onnxruntime',
        executionProvider: scorer.executionProvider.name,
        reference: 'xgboost-native',
        maxAbsDiff: parity,
        rows: ds.nrow,
        tolerance: ONNX_PARITY_TOLERANCE,
      },
    },
  };
}

export async function exportNeural(
  id: string,
  spec: NeuralSpec,
  ds: Dataset,
  native: Buffer,
  log: (m: string) => void,
): Promise<Exported> {
  const backend = await selectTfBackend(log);
  const artifact = JSON.parse(native.toString('utf8')) as NeuralArtifact;
  const net = netFromState(artifact.state);
  try {
    const ok = windowEndRows(ds.decisionTs, spec.window, datasetBarMs(ds.featureSet));
    const eligible = range(ds.nrow).filter((r) => ok[r]);
    const step = Math.max(1, Math.floor(eligible.length / NN_PARITY_ROWS));
    const rows = eligible.filter((_, k) => k % step === 0).slice(0, NN_PARITY_ROWS);
    const X = gatherWindows(ds, rows, spec.window);
    const reference = net.predict(X, rows.length);
    const onnx = net.toOnnx({ modelId: id, featureNames: ds.featureNames.join(',') });
    const scorer = await OnnxScorer.create(onnx, [spec.window, ds.ncol]);
    let parity: number;
    try {
      parity = maxAbsDiff(await scorer.score(X, rows.length), reference);
    } finally {
      await scorer.close();
    }
    return {
      onnx,
      importance: null,
      serving: {
        window: spec.window,
        horizonMinutes: ds.horizonMinutes,
        barMs: datasetBarMs(ds.featureSet),
        output: 'quantiles',
        scoreUnits: 'return-sd',
        labelScale: artifact.labelScale,
        onnxSha256: sha256(onnx),
        parity: {
          runtime: 'onnxruntime',
          executionProvider: scorer.executionProvider.name,
          reference: `tfjs-${backend}`,
          maxAbsDiff: parity,
          rows: rows.length,
          tolerance:
            backend === 'tensorflow-gpu' || scorer.executionProvider.name === 'cuda'
              ? NN_GPU_PARITY_TOLERANCE
              : ONNX_PARITY_TOLERANCE,
        },
      },
    };
  } finally {
    net.dispose();
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
