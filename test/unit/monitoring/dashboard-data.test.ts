import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  HostSampler,
  parseNvidiaSmi,
  readGpus,
  startHostSampling,
} from '../../../src/monitoring/dashboard/host-stats';
import type { SessionState } from '../../../contracts/session';
import {
  fillLedger,
  fillsFromAudit,
  fillsInSnapshot,
  sessionView,
} from '../../../src/monitoring/dashboard/sessions';
import { buildSnapshot, collectSamples } from '../../../src/monitoring/dashboard/snapshot';
import {
  recordOrderRejected,
  setAccountSnapshot,
  setRiskState,
  setWorkerUp,
  tradingMetrics,
  TradingMetrics,
} from '../../../src/monitoring/metrics';

const fixture = resolve(__dirname, '../../fixtures/nvidia-smi/query-gpu.csv');
const host = { cpuUtilization: 0.5, cores: 2, loadAverage1m: 1, memoryUsedRatio: 0.3, gpus: [] };

describe('host stats', () => {
  test('when nvidia-smi prints its CSV, then utilisation and memory are parsed per GPU', () => {
    const gpus = parseNvidiaSmi(readFileSync(fixture, 'utf8'));
    assert.equal(gpus.length, 2);
    assert.deepEqual(gpus[0], {
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      utilization: 0.87,
      memoryUsedBytes: 40960 * 1024 * 1024,
      memoryTotalBytes: 81559 * 1024 * 1024,
    });
    assert.throws(() => parseNvidiaSmi('0, X, [N/A], 1, 2'), /utilization\.gpu: "\[N\/A\]"/);
  });

  test('when nvidia-smi is absent, then no GPU is listed and the reason says so', async () => {
    const r = await readGpus('/nonexistent/nvidia-smi');
    assert.deepEqual(r.gpus, []);
    assert.match(r.note ?? '', /nvidia-smi not found/);
  });

  test('when an nvidia-smi binary answers, then the sampler reports its GPUs and a CPU figure in [0, 1]', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-smi-'));
    const bin = join(dir, 'nvidia-smi');
    writeFileSync(bin, `#!/bin/sh\ncat '${fixture}'\n`);
    chmodSync(bin, 0o755);
    const prev = process.env.NVIDIA_SMI;
    process.env.NVIDIA_SMI = bin;
    try {
      const s = await new HostSampler().sample();
      assert.equal(s.gpus.length, 2);
      assert.ok(s.cpuUtilization >= 0 && s.cpuUtilization <= 1);
      assert.ok(s.cores >= 1);
    } finally {
      if (prev === undefined) delete process.env.NVIDIA_SMI;
      else process.env.NVIDIA_SMI = prev;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('host sampling in a worker', () => {
  test('when sampling runs, then the host CPU gauge of the process registry gets a value in [0, 1]', async () => {
    // A sentinel no sample can produce, so the test sees the sampler's own write.
    tradingMetrics.hostCpuUtilization.set({ host: hostname() }, -1);
    const stop = startHostSampling(20);
    try {
      let v: number | undefined = -1;
      // Wait on the gauge itself (not a fixed sleep): the first sample lands after one interval.
      for (let i = 0; i < 200 && v === -1; i++) {
        await new Promise((r) => setTimeout(r, 25));
        v = (await tradingMetrics.hostCpuUtilization.get()).values[0]?.value;
      }
      assert.ok(v !== undefined && v >= 0 && v <= 1, `cpu ${v}`);
    } finally {
      stop();
    }
  });
});

describe('dashboard snapshot', () => {
  test('when the registry holds account, risk and worker metrics, then the snapshot shows them per account', async () => {
    const m = new TradingMetrics();
    setAccountSnapshot(
      {
        account: 'paper',
        equityDollars: 99_000,
        startOfDayEquityDollars: 100_000,
        positions: [{ ticker: 'SPY', quantity: 3, marketValueDollars: 1_500 }],
      },
      m,
    );
    setRiskState({ account: 'paper', state: 'REDUCING', openRiskRatio: 0.1 }, m);
    setWorkerUp('io', false, m);
    recordOrderRejected('SPY', 'insufficient_buying_power', m);
    const { samples, sources } = await collectSamples({ kind: 'registry', registry: m.registry });
    const s = buildSnapshot(samples, sources, host, 1);
    assert.deepEqual(
      s.accounts.map((a) => [a.account, a.equity, a.dailyPnl, a.riskState, a.openRiskRatio]),
      [['paper', 99_000, -1_000, 'REDUCING', 0.1]],
    );
    assert.deepEqual(s.positions, [{ account: 'paper', ticker: 'SPY', quantity: 3, marketValue: 1_500 }]);
    assert.deepEqual(s.workers, [{ source: 'in-process', queue: 'io', up: false }]);
    assert.equal(s.orders.rejected, 1);
    assert.equal(s.orders.meanSlippageBps, null);
  });

  test('when a metrics URL cannot be reached, then the snapshot names it as failed instead of throwing', async () => {
    const { samples, sources } = await collectSamples({ kind: 'urls', urls: ['http://127.0.0.1:1/metrics'] });
    assert.equal(samples.length, 0);
    assert.equal(sources[0]?.ok, false);
  });
});

describe('session P&L from fills', () => {
  const row = (
    id: number,
    order: string,
    side: 'buy' | 'sell',
    filledQty: number,
    avgPrice: number,
    t: number,
  ) => ({
    id,
    clientOrderId: order,
    symbol: 'SPY',
    side,
    filledQty,
    avgPrice,
    venueTime: t,
  });

  test('when an order fills in parts, then each part is a fill at the price the increase cost', () => {
    // 4 @ 100, then 6 more: cumulative average 101.2 → the 6 cost (1012 − 400) / 6 = 102
    const fills = fillsFromAudit([
      row(2, 's:1', 'buy', 10, 101.2, 2_000),
      row(1, 's:1', 'buy', 4, 100, 1_000),
      row(3, 's:1', 'buy', 10, 101.2, 2_000), // the order.filled row after the last partial: no new fill
    ]);
    assert.deepEqual(
      fills.map((f) => [f.qty, Math.round(f.price * 1e6) / 1e6, f.at]),
      [
        [4, 100, 1_000],
        [6, 102, 2_000],
      ],
    );
  });

  test('when fills open, add to, reduce and flip a position, then realised + unrealised equals the cash-and-marks equity change', () => {
    const fills = fillsFromAudit([
      row(1, 's:1', 'buy', 10, 100, 1),
      row(2, 's:2', 'buy', 10, 110, 2),
      row(3, 's:3', 'sell', 15, 120, 3),
      row(4, 's:4', 'sell', 12, 125, 4), // closes 5, opens 7 short at 125
    ]);
    const ledger = fillLedger(fills, { SPY: 118 });
    // average cost: 20 @ 105; sell 15 @ 120 → +225; sell 5 @ 125 → +100; short 7 @ 125 marked 118 → +49
    assert.equal(ledger.realized, 325);
    assert.equal(ledger.unrealized, 49);
    assert.deepEqual(
      ledger.bySymbol.map((p) => [p.symbol, p.qty, p.avgPrice, p.mark]),
      [['SPY', -7, 125, 118]],
    );
    // independently: cash after the fills plus the marked position, against the start
    const start = 100_000;
    const cash = fills.reduce((c, f) => c + (f.side === 'buy' ? -1 : 1) * f.qty * f.price, start);
    const equity = cash + -7 * 118;
    assert.equal(ledger.realized + ledger.unrealized, equity - start);
  });

  test('when a symbol has no mark, then its open quantity is marked at its last fill price', () => {
    const ledger = fillLedger(fillsFromAudit([row(1, 's:1', 'buy', 3, 50, 1)]));
    assert.equal(ledger.unrealized, 0);
    assert.equal(ledger.bySymbol[0]?.mark, 50);
  });
});

describe('fills at one instant', () => {
  test('when a flip fills its exit and entry at the same venue time, then the exit is applied first, whatever the audit order', () => {
    const at = 5;
    const rows = [
      // short 10 @ 50 opened earlier
      {
        id: 1,
        clientOrderId: 's:1:X:0',
        symbol: 'X',
        side: 'sell' as const,
        filledQty: 10,
        avgPrice: 50,
        venueTime: 1,
      },
      // the entry (n = 1) observed before the exit (n = 0)
      {
        id: 2,
        clientOrderId: 's:4:X:1',
        symbol: 'X',
        side: 'buy' as const,
        filledQty: 12,
        avgPrice: 41,
        venueTime: at,
      },
      {
        id: 3,
        clientOrderId: 's:4:X:0',
        symbol: 'X',
        side: 'buy' as const,
        filledQty: 10,
        avgPrice: 40,
        venueTime: at,
      },
    ];
    const ledger = fillLedger(fillsFromAudit(rows));
    // exit: 10 × (50 − 40) = 100 realised; entry: long 12 @ 41
    assert.equal(ledger.realized, 100);
    assert.deepEqual(
      ledger.bySymbol.map((p) => [p.qty, p.avgPrice]),
      [[12, 41]],
    );
  });
});

describe('fills an account reflects', () => {
  const f = (symbol: string, side: 'buy' | 'sell', qty: number, at: number) => ({
    clientOrderId: `s:${at}:${symbol}:0`,
    symbol,
    side,
    qty,
    price: 10,
    at,
  });
  test('when the last decision’s fills are not in the account yet, then the prefix before them is taken', () => {
    const fills = [f('A', 'buy', 5, 1), f('B', 'sell', 3, 1), f('A', 'sell', 5, 2)];
    assert.equal(
      fillsInSnapshot(fills, [
        { symbol: 'A', qty: 5 },
        { symbol: 'B', qty: -3 },
      ]),
      2,
    );
    assert.equal(fillsInSnapshot(fills, [{ symbol: 'B', qty: -3 }]), 3);
  });
  test('when the account holds what no prefix of the fills opened, then none is taken', () => {
    assert.equal(fillsInSnapshot([f('A', 'buy', 5, 1)], [{ symbol: 'C', qty: 1 }]), null);
  });
});

describe('a session view', () => {
  const model = {
    modelId: null,
    deciding: 'indicators',
    predictions: 0,
    meanConfidence: null,
    lastTs: null,
    latest: [],
    shadows: [],
  };
  const core = (equity: number, positions: Array<{ symbol: string; qty: number; lastPrice: number }>) => ({
    sessionId: 's',
    workflowId: null,
    status: 'finished' as const,
    account: 'A',
    mode: 'replay',
    date: '2024-03-12',
    modelId: null,
    startEquity: 1_000,
    dayReport: null,
    recordedAt: null,
    state: {
      account: {
        equity,
        cash: 0,
        buyingPower: 0,
        positions: positions.map((p) => ({ ...p, avgPrice: 0 })),
        orders: [],
      },
      start: { equity: 1_000 },
      limits: { dailyLossLimit: 0.03, maxGrossExposure: 1 },
      riskState: 'ACTIVE',
      riskReason: '',
      paused: false,
      killed: false,
      lastDecisionTs: null,
      ordersPlaced: 2,
      deniedCount: 0,
    } as unknown as SessionState,
  });
  const fill = (side: 'buy' | 'sell', qty: number, price: number, at: number) => ({
    clientOrderId: `s:${at}:X:0`,
    symbol: 'X',
    side,
    qty,
    price,
    at,
  });

  test('when the fills explain the account, then realised + unrealised − costs = equity − start', () => {
    // bought 10 @ 10, sold 5 @ 12 (+10), 5 open marked at 11 (+5); $1.50 of commissions: equity 1013.50
    const v = sessionView(
      core(1_013.5, [{ symbol: 'X', qty: 5, lastPrice: 11 }]),
      [fill('buy', 10, 10, 1), fill('sell', 5, 12, 2)],
      model,
    );
    assert.deepEqual([v.realized, v.unrealized, v.costs, v.pnl, v.addsUp], [10, 5, 1.5, 13.5, true]);
    assert.equal(v.fillsAfterAccount, 0);
  });

  test('when the last decision’s fills are not in the account yet, then they are pending and left out', () => {
    const v = sessionView(
      core(1_013.5, [{ symbol: 'X', qty: 5, lastPrice: 11 }]),
      [fill('buy', 10, 10, 1), fill('sell', 5, 12, 2), fill('sell', 5, 11.5, 3)],
      model,
    );
    assert.equal(v.fillsAfterAccount, 1);
    assert.equal(v.realized, 10);
  });

  test('when equity rose but no fill explains it, then the session does not add up', () => {
    const v = sessionView(core(1_018, []), [], model);
    assert.equal(v.costs, -18);
    assert.equal(v.addsUp, false);
  });

  test('when the account holds a position no fill opened, then costs are unknown and it does not add up', () => {
    const v = sessionView(core(1_000, [{ symbol: 'X', qty: 3, lastPrice: 10 }]), [], model);
    assert.equal(v.costs, null);
    assert.equal(v.addsUp, false);
  });
});
