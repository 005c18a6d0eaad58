import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { buildDataset, readBarsCsvGz, type Dataset } from '../../../src/models/dataset';
import { tuneXGBoost } from '../../../src/models/hpo/tune';
import { DEFAULT_XGBOOST_SPEC } from '../../../src/models/spec';
import { evaluateWalkForward } from '../../../src/models/validation/evaluate';
import {
  detectLeakyFeatures,
  shuffled,
  shuffledLabelControl,
  withLeakageCanary,
} from '../../../src/models/validation/leakage';
import { walkForwardSplits, type Fold } from '../../../src/models/validation/walk-forward';
import { sharedDataDir, sharedDataOrSkip } from '../../support/shared-data';

const withCanary = withLeakageCanary;

describe('leakage controls on real SPY minute data', () => {
  let ds: Dataset | undefined;
  let folds: Fold[];
  const spec = { ...DEFAULT_XGBOOST_SPEC, rounds: 15 };
  before(() => {
    const dir = sharedDataDir();
    if (!dir) return;
    const full = buildDataset(readBarsCsvGz(join(dir, 'pyalgotrade_ninjatrader/1min/SPY.csv.gz'), 'SPY'));
    const keep = 8000;
    const from = full.nrow - keep;
    ds = {
      ...full,
      nrow: keep,
      X: full.X.slice(from * full.ncol),
      forwardReturn: full.forwardReturn.slice(from),
      notional: full.notional.slice(from),
      decisionTs: full.decisionTs.slice(from),
      labelEndTs: full.labelEndTs.slice(from),
    };
    folds = walkForwardSplits(ds.decisionTs, ds.labelEndTs, { folds: 3, embargoMs: 30 * 60_000 });
  });

  test('when a canary feature built from the label is added, then the leakage detector flags it and only it', async (t) => {
    if (!sharedDataOrSkip(t) || !ds) return;
    assert.deepEqual(detectLeakyFeatures(ds, folds), [], 'the honest features must not be flagged');
    const leaky = withCanary(ds);
    const findings = detectLeakyFeatures(leaky, folds);
    assert.deepEqual(
      findings.map((f) => f.feature),
      ['canary_future_return'],
    );
    assert.ok(findings[0]!.ic > 0.9);
    // And a model given the canary looks too good to be true — the symptom the control exists to catch.
    const wf = await evaluateWalkForward(leaky, spec, folds);
    assert.ok(wf.summary.hitRate > 0.8, `hit rate with canary ${wf.summary.hitRate}`);
  });

  test('when labels are shuffled, then the walk-forward pipeline scores at chance', async (t) => {
    if (!sharedDataOrSkip(t) || !ds) return;
    const r = await shuffledLabelControl(ds, spec, folds, 11);
    assert.ok(r.atChance, `shuffled labels: IC z=${r.icZ.toFixed(2)}, hit z=${r.hitZ.toFixed(2)}`);
    assert.ok(Math.abs(r.ic) < 0.05);
    // The control can fail: a pipeline that joins the (shuffled) label into its features scores far above chance.
    const labels = shuffled(ds.forwardReturn, 11);
    const wf = await evaluateWalkForward(withCanary(ds, labels), spec, folds, { labels });
    assert.ok(wf.summary.hitRate > 0.8, `leaky pipeline on shuffled labels: hit rate ${wf.summary.hitRate}`);
  });
});

describe('hyperparameter search on walk-forward folds of real data', () => {
  test('when tuning with a rounds budget, then the budget holds and the best trial reached the last rung', async (t) => {
    const dir = sharedDataOrSkip(t);
    if (!dir) return;
    const full = buildDataset(readBarsCsvGz(join(dir, 'lean_equity_usa/1min/SPY.csv.gz'), 'SPY'));
    const folds = walkForwardSplits(full.decisionTs, full.labelEndTs, { folds: 2, embargoMs: 30 * 60_000 });
    const r = await tuneXGBoost(full, { ...DEFAULT_XGBOOST_SPEC, rounds: 1 }, folds, {
      trials: 4,
      minRounds: 2,
      eta: 2,
      budgetRounds: 40,
      seed: 3,
    });
    assert.ok(r.state.spent <= 40);
    assert.ok(r.best.scores.length >= 2);
    assert.equal(r.spec.rounds, 2 * 2 ** (r.best.scores.length - 1));
    assert.equal(r.spec.params.max_depth, r.best.params.max_depth);
  });
});
