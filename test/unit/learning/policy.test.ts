import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DriftReportDto, LearningStateDto, ShadowEvaluationDto } from '../../../contracts/learning';
import { performanceWeights } from '../../../src/models/ensemble/ensemble';
import { MIN_LIVE_DAYS, recentOosPnl } from '../../../src/models/serving/served-model';
import {
  LEARNING_START,
  daysToScheduledRetrain,
  learningConfig,
  learningDay,
} from '../../../src/learning/policy';

const config = learningConfig({ shadowDays: 3, maxShadowDays: 6, retrainEveryDays: 10, cooldownDays: 2 });

function drift(modelId: string, o: Partial<DriftReportDto> = {}): DriftReportDto {
  return {
    modelId,
    name: 'm',
    day: '2024-01-02',
    windowDays: 5,
    featureRows: 78,
    featurePsi: {},
    maxFeaturePsi: 0.01,
    driftedFeatures: [],
    predictionRows: 78,
    predictionPsi: 0.02,
    live: { rows: 70, hitRate: 0.55, meanReturn: 0.0001, pnl: 0.007 },
    expected: { hitRate: 0.55, meanReturn: 0.0001, sdReturn: 0.001, rows: 500 },
    sequential: {
      sprt: { llr: 0, n: 0, restarts: 0, verdict: 'continue' },
      cusum: { s: 0, days: 1, alarm: false },
      z: 0,
    },
    regime: null,
    performanceAlarm: false,
    distributionAlarm: false,
    breach: false,
    reasons: [],
    ...o,
  };
}

function shadow(modelId: string, days: number, promote: boolean, meanDiff = 1): ShadowEvaluationDto {
  return {
    modelId,
    enteredDay: '2024-01-02',
    days,
    pairs: days * 70,
    challengerPnl: 1,
    championPnl: 0,
    challengerHitRate: 0.56,
    championHitRate: 0.5,
    gate: {
      promote,
      test: 'one-sided paired t-test on block-summed net P&L differences',
      blocks: days * 5,
      meanDiff,
      tStat: promote ? 3 : 0.2,
      pValue: promote ? 0.001 : 0.4,
      alpha: 0.05,
      reason: promote ? 'challenger beats champion' : 'challenger not better',
    },
  };
}

describe('learning policy (one day at a time)', () => {
  test('when nothing is registered, then the first day retrains (bootstrap)', () => {
    const r = learningDay(LEARNING_START, { day: 'd1', championId: null, drift: null, shadows: [] }, config);
    assert.equal(r.decisions.retrain?.trigger, 'bootstrap');
    assert.equal(r.state.lastRetrainCycle, 1);
  });

  test('when the live record fails the sequential test, then a retrain starts; within the cool-down it is held', () => {
    const prev = { ...LEARNING_START, championId: 'k', cycles: 5, lastRetrainCycle: 1, lastRetrainDay: 'd1' };
    const bad = drift('k', { performanceAlarm: true, breach: true, reasons: ['SPRT: …'] });
    const r = learningDay(prev, { day: 'd6', championId: 'k', drift: bad, shadows: [] }, config);
    assert.equal(r.decisions.retrain?.trigger, 'performance');
    const again = learningDay(r.state, { day: 'd7', championId: 'k', drift: bad, shadows: [] }, config);
    assert.equal(again.decisions.retrain, null);
    assert.match(again.decisions.notes.join('\n'), /cool-down/);
  });

  test('when a challenger is in shadow for fewer than shadowDays, then retraining waits for its verdict', () => {
    const prev = { ...LEARNING_START, championId: 'k', cycles: 9, lastRetrainCycle: 2 };
    const bad = drift('k', { performanceAlarm: true });
    const r = learningDay(
      prev,
      { day: 'd', championId: 'k', drift: bad, shadows: [shadow('c', 1, false)] },
      config,
    );
    assert.equal(r.decisions.retrain, null);
    assert.match(r.decisions.notes.join('\n'), /c in shadow for fewer than 3 days/);
    // once it had its shadow days without being promoted, a fresher retrain may join it
    const later = learningDay(
      prev,
      { day: 'd', championId: 'k', drift: bad, shadows: [shadow('c', 3, false)] },
      config,
    );
    assert.equal(later.decisions.retrain?.trigger, 'performance');
    assert.deepEqual(later.decisions.reject, []);
  });

  test('when a challenger has enough shadow days and passes the gate, then it is promoted; short of the days, it waits', () => {
    const prev = { ...LEARNING_START, championId: 'k', cycles: 4, lastRetrainCycle: 2 };
    const early = learningDay(
      prev,
      { day: 'd', championId: 'k', drift: null, shadows: [shadow('c', 2, true)] },
      config,
    );
    assert.equal(early.decisions.promote, null);
    const r = learningDay(
      prev,
      { day: 'd', championId: 'k', drift: null, shadows: [shadow('c', 3, true)] },
      config,
    );
    assert.equal(r.decisions.promote?.modelId, 'c');
    assert.equal(r.state.championId, 'c');
  });

  test('when two challengers pass on one day, then the better is promoted and the other rejected', () => {
    const prev = { ...LEARNING_START, championId: 'k', cycles: 4 };
    const r = learningDay(
      prev,
      {
        day: 'd',
        championId: 'k',
        drift: null,
        shadows: [shadow('c1', 3, true, 1), shadow('c2', 4, true, 2)],
      },
      config,
    );
    assert.equal(r.decisions.promote?.modelId, 'c2');
    assert.deepEqual(
      r.decisions.reject.map((x) => x.modelId),
      ['c1'],
    );
  });

  test('when a challenger is not proven by the maximum shadow days, then it is rejected', () => {
    const r = learningDay(
      { ...LEARNING_START, championId: 'k', cycles: 9 },
      { day: 'd', championId: 'k', drift: null, shadows: [shadow('c', 6, false)] },
      config,
    );
    assert.deepEqual(
      r.decisions.reject.map((x) => x.modelId),
      ['c'],
    );
    assert.equal(r.decisions.promote, null);
  });

  test('when the distribution breaches on consecutive days, then the streak triggers a retrain after psiDays', () => {
    const dd = drift('k', { distributionAlarm: true, reasons: ['prediction PSI 0.4 > 0.25'] });
    let s: LearningStateDto = { ...LEARNING_START, championId: 'k', cycles: 3, lastRetrainCycle: 1 };
    const one = learningDay(s, { day: 'd4', championId: 'k', drift: dd, shadows: [] }, config);
    assert.equal(one.decisions.retrain, null);
    s = one.state;
    const two = learningDay(s, { day: 'd5', championId: 'k', drift: dd, shadows: [] }, config);
    assert.equal(two.decisions.retrain?.trigger, 'distribution');
  });

  test('when the schedule comes due, then a retrain starts, and the next one is counted from it', () => {
    const s = { ...LEARNING_START, championId: 'k', cycles: 10, lastRetrainCycle: 1 };
    assert.equal(daysToScheduledRetrain(s, config), 1);
    const r = learningDay(s, { day: 'd11', championId: 'k', drift: drift('k'), shadows: [] }, config);
    assert.equal(r.decisions.retrain?.trigger, 'schedule');
    assert.equal(daysToScheduledRetrain(r.state, config), 10);
  });

  test('when a config value is invalid, then the error names the field', () => {
    assert.throws(() => learningConfig({ shadowDays: 0 }), /config\.shadowDays/);
    assert.throws(() => learningConfig({ shadowDays: 5, maxShadowDays: 3 }), /config\.maxShadowDays/);
    assert.throws(
      () => learningConfig({ sprt: { delta: 0.7, alpha: 0.01, beta: 0.1 } }),
      /config\.sprt\.delta/,
    );
  });
});

describe('ensemble weights follow the live record', () => {
  test('when a member has five live days, then its live record replaces its walk-forward one in the weights', () => {
    const wf: Array<[number, number]> = [1, 2, 3, 4, 5, 6].map((d) => [d, 10 + (d % 2)]);
    const losing = (n: number): Array<[number, number]> =>
      Array.from({ length: n }, (_, d) => [100 + d, -1 - (d % 2)]);
    const a = { metrics: { oosPnlByDay: wf, liveOosPnlByDay: losing(MIN_LIVE_DAYS - 1) } };
    const b = { metrics: { oosPnlByDay: wf, liveOosPnlByDay: losing(MIN_LIVE_DAYS) } };
    assert.deepEqual(
      recentOosPnl(a),
      wf.map(([, p]) => p),
      'too few live days: the walk-forward record',
    );
    assert.deepEqual(
      recentOosPnl(b),
      losing(MIN_LIVE_DAYS).map(([, p]) => p),
    );
    const w = performanceWeights([
      { id: 'a', recentOosPnl: recentOosPnl(a) },
      { id: 'b', recentOosPnl: recentOosPnl(b) },
    ]);
    assert.deepEqual(w, [1, 0], 'the member losing live gets no weight');
  });
});
