/**
 * The predictions table: what each model predicted, where it mattered (a session's traded model, a shadow
 * challenger scored beside it, a model backtest), with the hash of the feature row it scored. Written
 * idempotently (a retried decision writes the same rows); read by the drift monitor, the shadow evaluation and
 * the scoreboard.
 */
import type { Pool } from 'pg';

export interface PredictionRow {
  /** session id, or a backtest run id */
  readonly source: string;
  readonly modelId: string;
  readonly role: 'traded' | 'shadow';
  readonly symbol: string;
  /** decision time (the bar close), epoch ms */
  readonly ts: number;
  readonly timeframe: string;
  readonly score: number;
  readonly expectedReturn: number;
  readonly confidence: number;
  readonly horizonBars: number;
  readonly inputsHash: string;
}

export async function savePredictions(pool: Pool, rows: readonly PredictionRow[]): Promise<void> {
  if (!rows.length) return;
  const col = <K extends keyof PredictionRow>(k: K) => rows.map((r) => r[k]);
  await pool.query(
    `insert into predictions (source, model_id, role, symbol, ts, timeframe, score, expected_return, confidence, horizon_bars, inputs_hash)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::int[], $11::text[])
     on conflict (source, model_id, symbol, ts) do update set role = excluded.role, score = excluded.score,
       expected_return = excluded.expected_return, confidence = excluded.confidence,
       horizon_bars = excluded.horizon_bars, inputs_hash = excluded.inputs_hash`,
    [
      col('source'),
      col('modelId'),
      col('role'),
      col('symbol'),
      col('ts'),
      col('timeframe'),
      col('score'),
      col('expectedReturn'),
      col('confidence'),
      col('horizonBars'),
      col('inputsHash'),
    ],
  );
}

/** A model's predictions with decision time in [fromTs, toTs), ascending (all sources, or one). */
export async function predictionsOf(
  pool: Pool,
  modelId: string,
  fromTs: number,
  toTs: number,
  source?: string,
): Promise<PredictionRow[]> {
  const { rows } = await pool.query<{
    source: string;
    model_id: string;
    role: 'traded' | 'shadow';
    symbol: string;
    ts: string;
    timeframe: string;
    score: number;
    expected_return: number;
    confidence: number;
    horizon_bars: number;
    inputs_hash: string;
  }>(
    `select source, model_id, role, symbol, ts, timeframe, score, expected_return, confidence, horizon_bars, inputs_hash
       from predictions where model_id = $1 and ts >= $2 and ts < $3 ${source ? 'and source = $4' : ''}
      order by ts, symbol`,
    source ? [modelId, fromTs, toTs, source] : [modelId, fromTs, toTs],
  );
  return rows.map((r) => ({
    source: r.source,
    modelId: r.model_id,
    role: r.role,
    symbol: r.symbol,
    ts: Number(r.ts),
    timeframe: r.timeframe,
    score: r.score,
    expectedReturn: r.expected_return,
    confidence: r.confidence,
    horizonBars: r.horizon_bars,
    inputsHash: r.inputs_hash,
  }));
}
