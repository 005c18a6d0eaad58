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
