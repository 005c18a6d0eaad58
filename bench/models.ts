/**
 * bench/models: one run on the same real data (SPY minute bars, ../shared/data):
 *  - XGBoost training through our koffi binding vs the `xgboost` command-line program, same parameters and rows;
 *    the extra cost of the TypeScript dollar-profit objective is shown separately;
 *  - ONNX Runtime vs native XGBoost inference latency at batch 1, 100 and 10,000, and their parity;
 *  - LSTM training samples/s on the TensorFlow.js backend in use;
 *  - an objective comparison (dollar profit vs squared error) on walk-forward folds: a report, not a pass/fail.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDataset, readBarsCsvGz } from '../src/models/dataset';
import { selectTfBackend } from '../src/models/nn/backend';
import { createNet } from '../src/models/nn/nets';
import { fitNormalizer } from '../src/models/nn/quantile-net';
import { DollarProfitObjective, squaredError } from '../src/models/objectives';
import { OnnxScorer, maxAbsDiff } from '../src/models/onnx/serving';
import { xgboostToOnnx } from '../src/models/onnx/xgboost-export';
import { DEFAULT_XGBOOST_SPEC } from '../src/models/spec';
import { evaluateWalkForward } from '../src/models/validation/evaluate';
import { walkForwardSplits } from '../src/models/validation/walk-forward';
import { DMatrix, train, xgboostNative } from '../src/models/xgboost';
import { median, percentile, writeResults, type BenchRow } from './lib';

const RUNS = 5;
const ROUNDS = 200;
const PARAMS = {
  objective: 'reg:squarederror',
  max_depth: 6,
  eta: 0.1,
  tree_method: 'hist',
  nthread: 1,
  base_score: 0,
  seed: 0,
} as const;

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function main(): Promise<void> {
  const dataDir = process.env.SHARED_DATA_DIR ?? resolve(__dirname, '../../shared/data');
  const ds = buildDataset(readBarsCsvGz(join(dataDir, 'pyalgotrade_ninjatrader/1min/SPY.csv.gz'), 'SPY'));
  const label = Float32Array.from(ds.forwardReturn, (r) => r * 1e4); // basis points
  const dir = mkdtempSync(join(tmpdir(), 'bench-models-'));
  const rows: BenchRow[] = [];
  try {
    // --- training: binding vs CLI (same rows, same parameters, same number of rounds) ---
    const csv: string[] = [];
    for (let i = 0; i < ds.nrow; i++) {
      const r = [label[i]!.toPrecision(9)];
      for (let j = 0; j < ds.ncol; j++) {
        const v = ds.X[i * ds.ncol + j]!;
        r.push(Number.isNaN(v) ? '' : v.toPrecision(9));
      }
      csv.push(r.join(','));
    }
    const csvPath = join(dir, 'train.csv');
    writeFileSync(csvPath, csv.join('\n') + '\n');
    const conf = join(dir, 'train.conf');
    writeFileSync(
      conf,
      [
        ...Object.entries(PARAMS).map(([k, v]) => `${k} = ${v}`),
        `num_round = ${ROUNDS}`,
        `data = "${csvPath}?format=csv&label_column=0"`,
        `model_out = "${join(dir, 'cli.model')}"`,
        'silent = 1',
      ].join('\n') + '\n',
    );
    // Our binding also reads the same CSV's values (already in memory as Float32Array): time DMatrix + training.
    const ours: number[] = [],
      cli: number[] = [],
      custom: number[] = [],
      dollar: number[] = [],
      builtinWarm: number[] = [];
    const tsSquared = squaredError(label);
    const obj = new DollarProfitObjective(ds, { costRate: 1e-4, positionPenalty: 5e-4 });
    for (let r = 0; r < RUNS; r++) {
      let t0 = process.hrtime.bigint();
      execFileSync('xgboost', [conf], { stdio: 'ignore' });
      cli.push(ms(t0));
      t0 = process.hrtime.bigint();
      const d = DMatrix.fromFloat32(ds.X, ds.nrow, ds.ncol, { label });
      const m = await train({ params: PARAMS, dtrain: d, rounds: ROUNDS });
      ours.push(ms(t0));
      m.booster.free();
      // Built-in again on the same DMatrix: its histogram cuts now exist, as they do for the TypeScript run below.
      t0 = process.hrtime.bigint();
      const mWarm = await train({ params: PARAMS, dtrain: d, rounds: ROUNDS });
      builtinWarm.push(ms(t0));
      mWarm.booster.free();
      t0 = process.hrtime.bigint();
      // Same loss computed in TypeScript: same trees, so the difference is the callback's cost alone.
      const m2 = await train({ params: { ...PARAMS }, dtrain: d, rounds: ROUNDS, objective: tsSquared });
      custom.push(ms(t0));
      m2.booster.free();
      t0 = process.hrtime.bigint();
      const m3 = await train({ params: { ...PARAMS }, dtrain: d, rounds: ROUNDS, objective: obj.objective });
      dollar.push(ms(t0));
      m3.booster.free();
      d.free();
    }
    const oursMs = median(ours),
      cliMs = median(cli),
      customMs = median(custom),
      dollarMs = median(dollar),
      warmMs = median(builtinWarm);
    rows.push({
      metric: 'xgboost_train_ffi_ms',
      value: oursMs,
      unit: 'ms',
      note: `${ds.nrow} rows × ${ds.ncol} features, ${ROUNDS} rounds, libxgboost ${Object.values(xgboostNative().version).join('.')}`,
    });
    rows.push({
      metric: 'xgboost_train_cli_ms',
      value: cliMs,
      unit: 'ms',
      note: 'xgboost CLI (Debian), same params, CSV input, includes process start and CSV parse',
    });
    rows.push({
      metric: 'xgboost_ffi_vs_cli_time_ratio',
      value: oursMs / cliMs,
      unit: 'x (ours / CLI, smaller is better)',
      peer: { name: 'xgboost CLI', value: cliMs },
      ratio: oursMs / cliMs,
      target: { op: '<=', value: 1.1 },
    });
    rows.push({
      metric: 'xgboost_ts_objective_extra_ms',
      value: customMs - warmMs,
      unit: 'ms',
      note: `squared error as a TypeScript objective: ${customMs.toFixed(0)} ms vs built-in ${warmMs.toFixed(0)} ms on the same DMatrix (${((customMs / warmMs - 1) * 100).toFixed(0)}% extra: margins out, grad/hess in, per round)`,
    });
    rows.push({
      metric: 'xgboost_train_dollar_profit_ms',
      value: dollarMs,
      unit: 'ms',
      note: 'dollar-profit objective (TypeScript), same rows/rounds; its trees differ, so not a like-for-like time',
    });

    // --- inference: ONNX Runtime vs native, batch 1 / 100 / 10,000 ---
    const d = DMatrix.fromFloat32(ds.X, ds.nrow, ds.ncol, { label });
    const model = await train({ params: { ...PARAMS, max_depth: 4 }, dtrain: d, rounds: 100 });
    d.free();
    const scorer = await OnnxScorer.create(
      xgboostToOnnx(model.booster.toBuffer('json'), { output: 'margin' }),
      ds.ncol,
    );
    const nativeAll = (() => {
      const m = DMatrix.fromFloat32(ds.X, ds.nrow, ds.ncol);
      const p = model.booster.predict(m, { type: 'margin' });
      m.free();
      return p;
    })();
    const parity = maxAbsDiff(await scorer.score(ds.X, ds.nrow), nativeAll);
    for (const batch of [1, 100, 10_000]) {
      const reps = batch === 1 ? 2000 : batch === 100 ? 500 : 30;
      const onnxT: number[] = [],
        nativeT: number[] = [];
      for (let i = 0; i < reps; i++) {
        const off = ((i * batch) % (ds.nrow - batch)) * ds.ncol;
        const x = ds.X.subarray(off, off + batch * ds.ncol);
        let t0 = process.hrtime.bigint();
        await scorer.score(x, batch);
        onnxT.push(ms(t0));
        t0 = process.hrtime.bigint();
        const m = DMatrix.fromFloat32(x, batch, ds.ncol);
        model.booster.predict(m, { type: 'margin' });
        m.free();
        nativeT.push(ms(t0));
      }
      const warm = Math.floor(reps / 10); // first calls warm caches
      const o = onnxT.slice(warm),
        n = nativeT.slice(warm);
      rows.push({
        metric: `onnx_batch${batch}_p99_ms`,
        value: percentile(o, 99),
        unit: 'ms',
        peer: { name: 'native XGBoost (DMatrix + predict)', value: percentile(n, 99) },
        ratio: percentile(n, 99) / percentile(o, 99),
        ...(batch === 1 ? { target: { op: '<' as const, value: 1 } } : {}),
        note: `median ONNX ${median(o).toFixed(4)} ms, native ${median(n).toFixed(4)} ms`,
      });
    }
    rows.push({
      metric: 'onnx_parity_max_abs_diff',
      value: parity,
      unit: 'abs',
      target: { op: '<=', value: 1e-5 },
      note: `${ds.nrow} rows, margins`,
    });
    await scorer.close();
    model.booster.free();

    // --- LSTM training throughput ---
    const backend = await selectTfBackend();
    const spec = { kind: 'lstm' as const, window: 30, units: 32, epochs: 1, batchSize: 64, costRate: 0 };
    const nSeq = 2048;
    const seqX = ds.X.slice(0, (nSeq + spec.window) * ds.ncol);
    const windows = new Float32Array(nSeq * spec.window * ds.ncol);
    for (let i = 0; i < nSeq; i++)
      windows.set(seqX.subarray(i * ds.ncol, (i + spec.window) * ds.ncol), i * spec.window * ds.ncol);
    const data = {
      n: nSeq,
      window: spec.window,
      features: ds.ncol,
      X: windows,
      target: Float32Array.from({ length: nSeq }, (_, i) => label[i + spec.window - 1]!),
      weight: new Float32Array(nSeq).fill(1),
    };
    const lstm = createNet(spec, ds.featureNames, fitNormalizer(ds.X, ds.nrow, ds.ncol));
    await lstm.fit({ ...data, n: 256 }, { epochs: 1 }); // warm-up
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      await lstm.fit(data, { epochs: 1 });
      times.push(ms(t0));
    }
    lstm.dispose();
    rows.push({
      metric: 'lstm_samples_per_s',
      value: nSeq / (median(times) / 1000),
      unit: 'samples/s',
      note: `tfjs backend ${backend}; LSTM(${spec.units}) with quantile head over ${spec.window}×${ds.ncol}, batch 64`,
    });

    // --- objective comparison on walk-forward folds (report only) ---
    const folds = walkForwardSplits(ds.decisionTs, ds.labelEndTs, { folds: 4, embargoMs: 30 * 60_000 });
    const comparison: Record<string, unknown> = {};
    for (const objective of ['dollar_profit', 'squared_error'] as const) {
      const wf = await evaluateWalkForward(ds, { ...DEFAULT_XGBOOST_SPEC, objective }, folds);
      comparison[objective] = {
        ...wf.summary,
        folds: wf.folds.map((f) => ({
          fold: f.fold,
          netPnl: f.netPnl,
          sharpe: f.sharpe,
          hitRate: f.hitRate,
        })),
      };
      rows.push({
        metric: `wf_net_pnl_${objective}`,
        value: wf.summary.netPnl,
        unit: 'USD',
        note: `Sharpe/row ${wf.summary.sharpe.toFixed(4)}, hit rate ${wf.summary.hitRate.toFixed(3)}, ${wf.summary.trades} trades, IC ${wf.summary.ic.toFixed(4)}`,
      });
    }
    writeResults('models', rows, {
      objectiveComparison: comparison,
      data: 'pyalgotrade_ninjatrader/1min/SPY.csv.gz',
      tfBackend: backend,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void main();
