import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { makeClientOrderId } from '../../../src/model/client-order-id';
import { tradingMetrics } from '../../../src/monitoring/metrics';
import { prometheusSessionMetrics } from '../../../src/monitoring/session-metrics';

const barTs = Date.parse('2024-03-12T14:00:00Z');
const id = (symbol: string, seq: number) => makeClientOrderId({ session: 's1', barTs, symbol, seq });

/** Sum of a counter's or gauge's values whose labels include `labels`. */
async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = tradingMetrics.registry.getSingleMetric(name)!;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((a, v) => a + v.value, 0);
}

describe('session metrics (what the session activities report)', () => {
  beforeEach(() => tradingMetrics.reset());

  test('when a filled order is listed at several syncs, then it is counted once with its slippage against the decision price', async () => {
    const m = prometheusSessionMetrics('acct');
    m.ordersAcknowledged(
      [{ clientOrderId: id('AAA', 1), symbol: 'AAA', side: 'buy', type: 'market', refPrice: 100 }],
      [{ alreadyExisted: false, rejected: null }],
    );
    const order = {
      clientOrderId: id('AAA', 1),
      symbol: 'AAA',
      side: 'buy' as const,
      status: 'filled',
      filledQty: 10,
      filledAvgPrice: 100.1,
    };
    m.ordersObserved([order]);
    m.ordersObserved([order]);
    assert.equal(await value('trader_orders_filled_total'), 1);
    assert.equal(await value('trader_filled_notional_dollars_total'), 1001);
    const slip = (await tradingMetrics.slippage.get()).values.find(
      (v) => v.metricName === 'trader_order_slippage_bps_sum',
    );
    assert.ok(Math.abs(slip!.value - 10) < 1e-9, `10 bps worse: ${slip!.value}`);
  });

  test('when a day trades and costs are charged, then realised + unrealised add up to the daily P&L', async () => {
    const m = prometheusSessionMetrics('acct');
    // AAA: bought 10 at 100, sold 10 at 101 (a bracket's take-profit leg); BBB: bought 5 at 50, still open at 52.
    m.ordersObserved([
      {
        clientOrderId: id('AAA', 1),
        symbol: 'AAA',
        side: 'buy',
        status: 'filled',
        filledQty: 10,
        filledAvgPrice: 100,
        legs: [
          {
            clientOrderId: 'leg-tp',
            symbol: 'AAA',
            side: 'sell',
            status: 'filled',
            filledQty: 10,
            filledAvgPrice: 101,
          },
        ],
      },
      {
        clientOrderId: id('BBB', 2),
        symbol: 'BBB',
        side: 'buy',
        status: 'filled',
        filledQty: 5,
        filledAvgPrice: 50,
      },
    ]);
    // gross: AAA +10, BBB unrealised +10; the broker charged $1.25 of fees: equity 100,018.75
    m.portfolio({
      equity: 100_018.75,
      lastEquity: 100_000,
      positions: [{ symbol: 'BBB', qty: 5, avgPrice: 50, lastPrice: 52 }],
    });
    const realised = await value('trader_pnl_realized_dollars');
    const unrealised = await value('trader_pnl_unrealized_dollars');
    assert.equal(unrealised, 10);
    assert.ok(Math.abs(realised + unrealised - 18.75) < 0.011, `${realised} + ${unrealised}`);
    // AAA's realised is its round trip less its share of the fees (by traded notional: 2,020 of 2,270)
    const aaa = await value('trader_pnl_realized_dollars', { ticker: 'AAA' });
    assert.ok(Math.abs(aaa - (10 - (1.25 * 2020) / 2270)) < 0.011, `AAA ${aaa}`);
  });

  test('when a decision is retried, then its breaches and denials are not counted twice but the state is set', async () => {
    const m = prometheusSessionMetrics('acct');
    const halted = {
      state: 'HALTED' as const,
      openRiskRatio: 0,
      drawdownRatio: 0.01,
      dailyLossLimitRatio: 0.001,
      breaches: ['daily_loss'],
      denials: ['halted', 'halted'],
    };
    m.riskChecked(halted);
    m.riskChecked({ ...halted, breaches: [], denials: [] });
    assert.equal(await value('trader_risk_limit_breaches_total', { limit: 'daily_loss' }), 1);
    assert.equal(await value('trader_risk_denials_total', { limit: 'halted' }), 2);
    assert.equal(await value('trader_risk_state', { state: 'HALTED' }), 1);
    assert.equal(await value('trader_risk_state', { state: 'ACTIVE' }), 0);
    m.modelInUse('m-1');
    m.modelInUse(null);
    assert.equal(await value('trader_session_model_info', { model: 'indicator-fallback' }), 1);
    assert.equal(await value('trader_session_model_info', { model: 'm-1' }), 0);
  });
});
