import type { Registry } from 'prom-client';
import { parsePrometheusText, type Sample } from '../prom-text';
import type { HostStats } from './host-stats';
import type { SessionBoard } from './sessions';

/**
 * What the live dashboard shows, built from Prometheus samples: the in-process registry when the dashboard
 * is served by a worker, or the workers' /metrics endpoints when it runs on its own (`trader dashboard`).
 * One code path for both: exposition text → samples → snapshot.
 */
export interface DashboardSnapshot {
  readonly generatedAtMs: number;
  readonly sources: ReadonlyArray<{ readonly source: string; readonly ok: boolean; readonly error?: string }>;
  readonly accounts: ReadonlyArray<{
    readonly account: string;
    readonly equity: number | null;
    readonly dailyPnl: number | null;
    readonly dailyPnlRatio: number | null;
    readonly riskState: string | null;
    readonly openRiskRatio: number | null;
    readonly drawdownRatio: number | null;
    readonly dailyLossLimitRatio: number | null;
    readonly grossExposure: number | null;
    readonly netExposure: number | null;
  }>;
  readonly pnlCurve: ReadonlyArray<{
    readonly t: number;
    readonly equity: number;
    readonly dailyPnl: number;
  }>;
  readonly pnlByTicker: ReadonlyArray<{
    readonly ticker: string;
    readonly realized: number;
    readonly unrealized: number;
  }>;
  readonly positions: ReadonlyArray<{
    readonly account: string;
    readonly ticker: string;
    readonly quantity: number;
    readonly marketValue: number;
  }>;
  readonly models: ReadonlyArray<{
    readonly model: string;
    readonly confidence: number | null;
    readonly drift: number | null;
    readonly predictions: number;
  }>;
  readonly orders: {
    readonly submitted: number;
    readonly filled: number;
    readonly rejected: number;
    readonly meanSlippageBps: number | null;
    readonly meanDecisionLatencySeconds: number | null;
  };
  readonly workers: ReadonlyArray<{ readonly source: string; readonly queue: string; readonly up: boolean }>;
  readonly staleData: ReadonlyArray<{
    readonly symbol: string;
    readonly timeframe: string;
    readonly seconds: number;
  }>;
  readonly system: HostStats & { readonly cpuHistory: readonly number[] };
  /** running and finished trading sessions from Temporal and the store (empty when no store is configured) */
  readonly sessions: SessionBoard;
}

export interface LabeledSample extends Sample {
  readonly source: string;
}

/** Where samples come from. */
export type SampleSource =
  | { readonly kind: 'registry'; readonly registry: Registry }
  | { readonly kind: 'urls'; readonly urls: readonly string[] };

export async function collectSamples(
  source: SampleSource,
): Promise<{ samples: LabeledSample[]; sources: DashboardSnapshot['sources'] }> {
  if (source.kind === 'registry') {
    const text = await source.registry.metrics();
    return {
      samples: parsePrometheusText(text).map((s) => ({ ...s, source: 'in-process' })),
      sources: [{ source: 'in-process', ok: true }],
    };
  }
  const results = await Promise.all(
    source.urls.map(async (url) => {
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const samples = parsePrometheusText(await r.text()).map((s) => ({ ...s, source: url }));
        return { samples, status: { source: url, ok: true } };
      } catch (err) {
        return {
          samples: [] as LabeledSample[],
          status: { source: url, ok: false, error: (err as Error).message },
        };
      }
    }),
  );
  return { samples: results.flatMap((r) => r.samples), sources: results.map((r) => r.status) };
}

function byName(samples: readonly LabeledSample[], name: string): LabeledSample[] {
  return samples.filter((s) => s.name === name);
}

function valueFor(
  samples: readonly LabeledSample[],
  name: string,
  match: Record<string, string>,
): number | null {
  const hits = byName(samples, name).filter((s) =>
    Object.entries(match).every(([k, v]) => s.labels[k] === v),
  );
  return hits.length ? hits.reduce((a, s) => a + s.value, 0) : null;
}

const total = (samples: readonly LabeledSample[], name: string) =>
  byName(samples, name).reduce((a, s) => a + s.value, 0);

/**
 * Builds the metrics part of the snapshot (without the P&L curve and CPU history, which the server accumulates
 * over time, and the sessions, which it reads from the store).
 */
export function buildSnapshot(
  samples: readonly LabeledSample[],
  sources: DashboardSnapshot['sources'],
  system: HostStats,
  nowMs: number,
): Omit<DashboardSnapshot, 'pnlCurve' | 'system' | 'sessions'> & { system: HostStats } {
  const accountNames = [
    ...new Set(
      byName(samples, 'trader_equity_dollars')
        .concat(byName(samples, 'trader_risk_state'))
        .map((s) => s.labels.account ?? 'unknown'),
    ),
  ].sort();
  const accounts = accountNames.map((account) => {
    const state =
      byName(samples, 'trader_risk_state').find((s) => s.labels.account === account && s.value === 1)?.labels
        .state ?? null;
    const v = (name: string) => valueFor(samples, name, { account });
    return {
      account,
      equity: v('trader_equity_dollars'),
      dailyPnl: v('trader_daily_pnl_dollars'),
      dailyPnlRatio: v('trader_daily_pnl_ratio'),
      riskState: state,
      openRiskRatio: v('trader_risk_open_risk_ratio'),
      drawdownRatio: v('trader_risk_drawdown_ratio'),
      dailyLossLimitRatio: v('trader_risk_daily_loss_limit_ratio'),
      grossExposure: v('trader_exposure_gross_dollars'),
      netExposure: v('trader_exposure_net_dollars'),
    };
  });

  const tickers = new Map<string, { realized: number; unrealized: number }>();
  for (const [name, key] of [
    ['trader_pnl_realized_dollars', 'realized'],
    ['trader_pnl_unrealized_dollars', 'unrealized'],
  ] as const) {
    for (const s of byName(samples, name)) {
      const t = s.labels.ticker ?? 'unknown';
      const e = tickers.get(t) ?? { realized: 0, unrealized: 0 };
      e[key] += s.value;
      tickers.set(t, e);
    }
  }
  const pnlByTicker = [...tickers]
    .map(([ticker, v]) => ({ ticker, ...v }))
    .sort((a, b) => Math.abs(b.realized + b.unrealized) - Math.abs(a.realized + a.unrealized));

  const positions = byName(samples, 'trader_position_quantity')
    .filter((s) => s.value !== 0)
    .map((s) => ({
      account: s.labels.account ?? 'unknown',
      ticker: s.labels.ticker ?? 'unknown',
      quantity: s.value,
      marketValue:
        valueFor(samples, 'trader_position_market_value_dollars', {
          account: s.labels.account ?? '',
          ticker: s.labels.ticker ?? '',
        }) ?? 0,
    }))
    .sort((a, b) => Math.abs(b.marketValue) - Math.abs(a.marketValue));

  const modelNames = new Set<string>();
  for (const n of [
    'trader_model_confidence_ratio',
    'trader_model_prediction_drift',
    'trader_model_prediction_count',
  ])
    for (const s of byName(samples, n)) modelNames.add(s.labels.model ?? 'unknown');
  const models = [...modelNames].sort().map((model) => ({
    model,
    confidence: valueFor(samples, 'trader_model_confidence_ratio', { model }),
    drift: valueFor(samples, 'trader_model_prediction_drift', { model }),
    predictions: valueFor(samples, 'trader_model_prediction_count', { model }) ?? 0,
  }));

  const slipCount = total(samples, 'trader_order_slippage_bps_count');
  const latency = byName(samples, 'trader_decision_latency_seconds_count').filter(
    (s) => s.labels.stage === 'end_to_end',
  );
  const latencyCount = latency.reduce((a, s) => a + s.value, 0);
  const latencySum = byName(samples, 'trader_decision_latency_seconds_sum')
    .filter((s) => s.labels.stage === 'end_to_end')
    .reduce((a, s) => a + s.value, 0);

  return {
    generatedAtMs: nowMs,
    sources,
    accounts,
    pnlByTicker,
    positions,
    models,
    orders: {
      submitted: total(samples, 'trader_orders_submitted_total'),
      filled: total(samples, 'trader_orders_filled_total'),
      rejected: total(samples, 'trader_orders_rejected_total'),
      meanSlippageBps: slipCount ? total(samples, 'trader_order_slippage_bps_sum') / slipCount : null,
      meanDecisionLatencySeconds: latencyCount ? latencySum / latencyCount : null,
    },
    workers: byName(samples, 'trader_worker_up').map((s) => ({
      source: s.source,
      queue: s.labels.queue ?? 'unknown',
      up: s.value === 1,
    })),
    staleData: byName(samples, 'trader_data_staleness_seconds')
      .map((s) => ({
        symbol: s.labels.symbol ?? 'unknown',
        timeframe: s.labels.timeframe ?? 'unknown',
        seconds: s.value,
      }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 8),
    system,
  };
}
