/**
 * Feature computation against the stored bars: the code path shared by the `features compute` CLI and
 * the feature activities. Reads 1m bars (with a warm-up lead so indicators are ready at `fromMs`),
 * computes on worker threads, writes the offline store and publishes each symbol's latest vector online.
 */
import type { Pool } from 'pg';
import { ValidationError } from '../model/errors';
import type { BarColumns } from '../model/bar';
import { TIMEFRAME_MS } from '../model/timeframe';
import { MarketDataRepository } from '../storage/market-data-repo';
import type { KeyValueCache } from '../storage/cache';
import type { FeatureSet } from './definition';
import { buildFeatureMatrix, defaultCloseTime, type FeatureMatrix } from './matrix';
import { computeFeatureMatrices } from './parallel';
import type { FeatureJobResult } from './parallel-protocol';
import { barsFromMinutes } from './prepare';
import { usesStoreInputs, withStoreInputs } from './microstructure-inputs';
import { FeatureStore, type FeatureVector } from './store';

const DAY_MS = 86_400_000;
/** Calendar days of bars read before `fromMs` so daily indicators (MACD 26+9, 20-day windows) are warm. */
export const DEFAULT_WARM_UP_DAYS = 70;

export interface FeatureServiceDeps {
  readonly pool: Pool;
  readonly cache: KeyValueCache;
  readonly threads?: number;
}

export interface ComputeRequest {
  readonly symbols: readonly string[];
  readonly set: FeatureSet;
  readonly fromMs: number;
  readonly toMs: number;
  readonly warmUpDays?: number;
  readonly publishOnline?: boolean;
  readonly onSymbolDone?: (
    r: { symbol: string; rows: number; written: number },
    done: number,
    total: number,
  ) => void;
}

export interface ComputeSummary {
  readonly featureSet: string;
  readonly version: string;
  readonly symbols: Array<{ symbol: string; bars: number; rows: number; written: number }>;
  readonly written: number;
}

function toMatrix(r: FeatureJobResult, set: FeatureSet): FeatureMatrix {
  return {
    symbol: r.symbol,
    featureSet: set.name,
    version: set.version,
    baseTimeframe: set.baseTimeframe,
    names: set.names,
    ts: r.ts!,
    availableAt: r.availableAt!,
    rows: r.rows,
    cols: r.cols,
    values: r.values!,
  };
}

function firstAtOrAfter(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function computeAndStoreFeatures(
  deps: FeatureServiceDeps,
  req: ComputeRequest,
): Promise<ComputeSummary> {
  if (!(req.toMs > req.fromMs))
    throw new ValidationError('toMs', `must be after fromMs (${new Date(req.fromMs).toISOString()})`);
  if (req.symbols.length === 0) throw new ValidationError('symbols', 'is empty');
  const repo = new MarketDataRepository(deps.pool);
  const store = new FeatureStore(deps.pool, deps.cache);
  await store.registerFeatureSet(req.set);
  const lead = (req.warmUpDays ?? DEFAULT_WARM_UP_DAYS) * DAY_MS;
  const inputs: Array<{ symbol: string; minutes: BarColumns }> = [];
  const barCounts = new Map<string, number>();
  for (const symbol of req.symbols) {
    const minutes = await repo.readBarColumns(symbol, '1m', req.fromMs - lead, req.toMs);
    barCounts.set(symbol, minutes.ts.length);
    if (minutes.ts.length > 0) inputs.push({ symbol, minutes });
  }
  const out: ComputeSummary['symbols'] = req.symbols
    .filter((s) => barCounts.get(s) === 0)
    .map((s) => ({ symbol: s, bars: 0, rows: 0, written: 0 }));
  let written = 0;
  let done = out.length;
  const storeMatrix = async (m: FeatureMatrix) => {
    const from = firstAtOrAfter(m.ts, req.fromMs);
    const n = await store.writeOffline(m, { from });
    if (req.publishOnline !== false && m.rows > 0) {
      const last = m.rows - 1;
      await store.putOnline({
        symbol: m.symbol,
        timeframe: m.baseTimeframe,
        version: m.version,
        ts: m.ts[last]!,
        values: m.values.slice(last * m.cols),
      });
    }
    written += n;
    const row = { symbol: m.symbol, bars: barCounts.get(m.symbol) ?? 0, rows: m.rows - from, written: n };
    out.push(row);
    req.onSymbolDone?.(row, ++done, req.symbols.length);
  };
  if (usesStoreInputs(req.set)) {
    // Quote, trade and options-flow columns are read from the store per symbol: built in this process.
    for (const { symbol, minutes } of inputs) {
      const bars = await withStoreInputs(
        deps.pool,
        symbol,
        barsFromMinutes(minutes, req.set.timeframes),
        req.set,
      );
      await storeMatrix(buildFeatureMatrix(bars, req.set, { symbol }));
    }
  } else
    await computeFeatureMatrices(inputs, req.set, {
      threads: deps.threads,
      returnValues: true,
      onResult: (r) => storeMatrix(toMatrix(r, req.set)),
    });
  return { featureSet: req.set.name, version: req.set.version, symbols: out, written };
}

/**
 * The latest vector of `symbol` as of `asOfMs` (the last base bar closed by then): online hit, else
 * computed from stored bars once across concurrent callers and published.
 */
export async function latestFeatureVector(
  deps: FeatureServiceDeps,
  symbol: string,
  set: FeatureSet,
  asOfMs: number,
  warmUpDays = DEFAULT_WARM_UP_DAYS,
): Promise<FeatureVector | null> {
  const repo = new MarketDataRepository(deps.pool);
  const store = new FeatureStore(deps.pool, deps.cache);
  // Fast path (the point of the online store): the cached vector is for the base bar that closed last.
  const tf = set.baseTimeframe;
  const hit = await store.getOnline(symbol, tf, set.version);
  if (hit) {
    const close = defaultCloseTime(hit.ts, tf);
    if (close <= asOfMs && close > asOfMs - TIMEFRAME_MS[tf]) return hit;
  }
  const minutes = await repo.readBarColumns(symbol, '1m', asOfMs - warmUpDays * DAY_MS, asOfMs);
  if (minutes.ts.length === 0) return null;
  const bars = await withStoreInputs(deps.pool, symbol, barsFromMinutes(minutes, set.timeframes), set);
  const base = bars[set.baseTimeframe]!;
  // The newest base bar complete at asOf; the vector for it is what a cached entry must match.
  let last = base.ts.length - 1;
  while (last >= 0 && defaultCloseTime(base.ts[last]!, set.baseTimeframe) > asOfMs) last--;
  if (last < 0) return null;
  const wantTs = base.ts[last]!;
  return store.getLatest(
    symbol,
    set,
    async () => {
      const m = buildFeatureMatrix(bars, set, { symbol });
      return { ts: m.ts[last]!, values: m.values.slice(last * m.cols, (last + 1) * m.cols) };
    },
    { ts: wantTs },
  );
}
