import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BoundedLabel,
  METRIC_LABEL_LIMITS,
  observeDecisionLatency,
  recordOrderFilled,
  recordOrderRejected,
  recordDataQualityReject,
  recordOrderSubmitted,
  setAccountSnapshot,
  setDataFreshness,
  setMetricsClock,
  setPnl,
  setRiskState,
  slippageBps,
  TradingMetrics,
} from '../../../src/monitoring/metrics';

const UNIT_SUFFIXES = [
  '_dollars',
  '_seconds',
  '_bps',
  '_ratio',
  '_total',
  '_quantity',
  '_info',
  '_up',
  '_state',
  '_drift',
  '_open',
  '_prediction',
  '_bytes',
];

describe('metrics registry', () => {
  const m = new TradingMetrics();
  m.enableProcessMetrics();
  const metrics = m.registry.getMetricsAsArray();

  test('when the registry is listed, then every trader metric follows Prometheus naming conventions', () => {
    assert.ok(metrics.length > 30);
    for (const metric of metrics) {
      const name = metric.name;
      assert.match(name, /^trader_[a-z0-9_]+$/, `${name}: must be snake_case with the trader_ prefix`);
      // prom-client's default process metrics keep their upstream names (only prefixed).
      if (name.startsWith('trader_worker_process') || name.startsWith('trader_worker_nodejs')) continue;
      if (String(metric.type) === 'counter')
        assert.ok(name.endsWith('_total'), `${name}: counters end in _total`);
      else assert.ok(!name.endsWith('_total'), `${name}: only counters end in _total`);
      assert.ok(
        UNIT_SUFFIXES.some((s) => name.includes(s)),
        `${name}: names a unit or kind suffix`,
      );
      assert.ok(
        !/_(ms|milliseconds|minutes|cents)(_|$)/.test(name),
        `${name}: use base units (seconds, dollars)`,
      );
      assert.ok(metric.help.length > 10, `${name}: has help text`);
    }
  });

  test('when histograms measure time, then their names end in _seconds', () => {
    const latency = metrics.find((x) => x.name === 'trader_decision_latency_seconds');
    assert.equal(latency?.type, 'histogram');
  });
});

describe('bounded label cardinality', () => {
  test('when more distinct tickers than the cap arrive, then the extra ones share "other"', async () => {
    const m = new TradingMetrics();
    for (let i = 0; i < METRIC_LABEL_LIMITS.tickers + 50; i++)
      recordOrderSubmitted({ ticker: `T${i}`, side: 'buy' }, m);
    const v = await m.ordersSubmitted.get();
    assert.equal(v.values.length, METRIC_LABEL_LIMITS.tickers + 1);
    const other = v.values.find((x) => x.labels.ticker === 'other');
    assert.equal(other?.value, 50);
  });

  test('when a reason is outside the closed enum, then it is recorded as "other"', async () => {
    const m = new TradingMetrics();
    recordOrderRejected('AAPL', 'some free text from the broker 12345', m);
    recordOrderRejected('AAPL', 'risk_denied', m);
    const v = await m.ordersRejected.get();
    assert.deepEqual(v.values.map((x) => x.labels.reason).sort(), ['other', 'risk_denied']);
  });

  test('when any stream of label values arrives, then at most limit + 1 distinct values come out and admitted ones are stable', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.string({ maxLength: 80 }), { maxLength: 200 }),
        (limit, values) => {
          const l = new BoundedLabel('x', limit);
          const out = values.map((v) => l.value(v));
          assert.ok(new Set(out).size <= limit + 1);
          assert.ok(out.every((o) => o.length <= 64));
          // Same input, same output: a series never moves between its own label and "other".
          values.forEach((v, i) => assert.equal(l.value(v), out[i]));
        },
      ),
    );
  });

  test('when a label was admitted once, then it keeps its own value after the cap fills', () => {
    const l = new BoundedLabel('x', 2);
    assert.equal(l.value('a'), 'a');
    assert.equal(l.value('b'), 'b');
    assert.equal(l.value('c'), 'other');
    assert.equal(l.value('a'), 'a');
    assert.equal(l.size, 2);
  });
});

describe('helpers', () => {
  test('when a buy fills above the decision price, then slippage is positive bps (worse)', () => {
    assert.ok(Math.abs(slippageBps('buy', 100.1, 100) - 10) < 1e-9);
    assert.ok(Math.abs(slippageBps('sell', 100.1, 100) + 10) < 1e-9);
    assert.throws(() => slippageBps('buy', 1, 0), /decisionPrice/);
  });

  test('when a fill is recorded, then count, turnover and slippage move', async () => {
    const m = new TradingMetrics();
    recordOrderFilled({ ticker: 'AAPL', side: 'buy', quantity: 10, fillPrice: 101, decisionPrice: 100 }, m);
    assert.equal((await m.ordersFilled.get()).values[0]?.value, 1);
    assert.equal((await m.filledNotional.get()).values[0]?.value, 1010);
    const sum = (await m.slippage.get()).values.find((x) => x.metricName === 'trader_order_slippage_bps_sum');
    assert.ok(Math.abs((sum?.value ?? 0) - 100) < 1e-9);
  });

  test('when a position closes between snapshots, then its series disappears and exposure follows', async () => {
    const m = new TradingMetrics();
    setAccountSnapshot(
      {
        account: 'paper',
        equityDollars: 100_500,
        startOfDayEquityDollars: 100_000,
        positions: [
          { ticker: 'AAPL', quantity: 10, marketValueDollars: 1_900 },
          { ticker: 'MSFT', quantity: -5, marketValueDollars: -2_000 },
        ],
      },
      m,
    );
    assert.equal((await m.exposureGross.get()).values[0]?.value, 3_900);
    assert.equal((await m.exposureNet.get()).values[0]?.value, -100);
    assert.equal((await m.dailyPnlRatio.get()).values[0]?.value, 0.005);
    setAccountSnapshot(
      {
        account: 'paper',
        equityDollars: 100_000,
        startOfDayEquityDollars: 100_000,
        positions: [{ ticker: 'MSFT', quantity: -5, marketValueDollars: -2_100 }],
      },
      m,
    );
    const q = await m.positionQuantity.get();
    assert.deepEqual(
      q.values.map((x) => x.labels.ticker),
      ['MSFT'],
    );
  });

  test('when the risk state changes, then exactly one state reads 1', async () => {
    const m = new TradingMetrics();
    setRiskState({ account: 'paper', state: 'HALTED', dailyLossLimitRatio: 0.03 }, m);
    const v = await m.riskState.get();
    assert.deepEqual(
      v.values.filter((x) => x.value === 1).map((x) => x.labels.state),
      ['HALTED'],
    );
    assert.equal(v.values.length, 3);
  });

  test('when no new bar arrives, then staleness grows with the clock at scrape time', async () => {
    const m = new TradingMetrics();
    let now = 1_700_000_060_000;
    setMetricsClock(() => now);
    try {
      setDataFreshness('AAPL', '1m', 1_700_000_060_000, m);
      assert.equal((await m.dataStaleness.get()).values[0]?.value, 0);
      now += 90_000;
      assert.equal((await m.dataStaleness.get()).values[0]?.value, 90);
      setDataFreshness('AAPL', '1m', 1_700_000_000_000, m); // older bar: ignored
      assert.equal((await m.lastBarTimestamp.get()).values[0]?.value, 1_700_000_060);
    } finally {
      setMetricsClock(() => Date.now());
    }
  });

  test('when the clock crosses the NYSE open, an early close and a holiday, then trader_market_open follows the calendar at scrape time', async () => {
    const m = new TradingMetrics();
    const at = (iso: string) => Date.parse(iso);
    let now = 0;
    setMetricsClock(() => now);
    const open = async () => (await m.marketOpen.get()).values[0]?.value;
    try {
      now = at('2024-03-12T13:29:00Z'); // 09:29 New York (EDT)
      assert.equal(await open(), 0);
      now = at('2024-03-12T13:30:00Z'); // 09:30: the open
      assert.equal(await open(), 1);
      now = at('2024-11-29T18:30:00Z'); // 13:30 the day after Thanksgiving: closed at 13:00
      assert.equal(await open(), 0);
      now = at('2024-12-25T15:00:00Z'); // Christmas
      assert.equal(await open(), 0);
    } finally {
      setMetricsClock(() => Date.now());
    }
  });

  test('when validation rejects bars, then the reason label is the validator rule and anything else is "other"', async () => {
    const m = new TradingMetrics();
    recordDataQualityReject('AAPL', '1m', 'ohlc_inconsistent', 3, m);
    recordDataQualityReject('AAPL', '1m', 'no such rule', 1, m);
    const v = await m.dataQualityRejects.get();
    assert.deepEqual(
      v.values.map((x) => [x.labels.reason, x.value]),
      [
        ['ohlc_inconsistent', 3],
        ['other', 1],
      ],
    );
  });

  test('when a value is not finite, then the helper throws naming the field', () => {
    const m = new TradingMetrics();
    assert.throws(
      () =>
        setPnl({ ticker: 'A', timeframe: '1m', model: 'x', realizedDollars: NaN, unrealizedDollars: 0 }, m),
      /realizedDollars/,
    );
    assert.throws(() => observeDecisionLatency('1m', Infinity, 'end_to_end', m), /seconds/);
  });
});
