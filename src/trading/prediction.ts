/**
 * The prediction port: how models reach the kernel. At each step the kernel asks for the predictions of the bars
 * that just closed (features at t → scores); the strategy receives them as its `predictions` argument. The same
 * port serves a backtest (predictions computed in batches per walk-forward window, looked up by time) and a live
 * session (features computed incrementally, scored by ONNX Runtime). A port may answer synchronously (a
 * backtest stays a tight loop) or with a promise (the kernel's step then awaits it).
 */
import type { Timeframe } from '../model/timeframe';
import type { PredictionSet } from '../strategy/types';
import type { ClockedBarFeed } from './feed';
import type { BarSeries } from './series';

export interface PredictionRequest {
  /** decision time: the close of the bars in `updated` */
  readonly now: number;
  /** the bars as of `now` (reading beyond it throws LookAheadError) */
  readonly feed: ClockedBarFeed;
  /** (symbol, timeframe) pairs whose bar closed at `now` */
  readonly updated: ReadonlyArray<{ readonly symbol: string; readonly timeframe: Timeframe }>;
  /**
   * A symbol's execution bars (its finest series, visible up to `now`): a model's features may need timeframes
   * the strategy does not trade, which the port builds from these bars itself.
   */
  readonly bars: (symbol: string) => BarSeries | undefined;
}

export interface PredictionPort {
  /** what the predictions come from, for journals, status and reports (e.g. `model:xgb-…`, `ensemble:…`) */
  readonly name: string;
  predict(req: PredictionRequest): PredictionSet | undefined | Promise<PredictionSet | undefined>;
  /**
   * Sessions of history the port needs before the first decision (its features' warm-up), on top of the
   * strategy's; a session loads the larger of the two.
   */
  readonly warmUpSessions?: number;
  /**
   * Trade another registered model from the next decision on (an operator's `session set-model`, or `models
   * rollback` of the model in use); the features carry on. Ports that cannot switch leave it out.
   */
  swap?(modelId: string): Promise<void>;
}
