/**
 * The session's side of the trading kernel: one kernel per running session in this worker, stepped once per
 * decision with the bars the store holds, the account the broker reported and the controls in force. The kernel
 * is the backtester's, so a session decides exactly what a backtest over the same bars decides.
 *
 * Durable by journal: every decision's input is written before the kernel steps. A worker that does not hold the
 * session's kernel in step (a restart, another io worker took the task) builds a fresh one, warms it up on the
 * same history and replays the journal: the kernel is deterministic, so its state equals the lost one's.
 */
import { ValidationError } from '../model/errors';
import { createStrategy, type StrategySpec } from '../strategy/registry';
import type { BarSource } from '../storage/bar-store';
import type { DecisionJournal } from '../storage/session-repo';
import { snapshotAccount, type AccountSnapshot } from '../trading/account';
import { TradingKernel, type KernelControls, type KernelStart, type StepResult } from '../trading/kernel';
import type { PredictionPort } from '../trading/prediction';
import { warmUpFrom } from '../trading/warm-up';
import { withOperatorLimits, type OperatorLimits } from '../risk/types';

/** Everything a decision depends on besides the bars: what the journal keeps. */
export interface DecisionInput {
  readonly account: AccountSnapshot;
  readonly controls: {
    readonly paused: boolean;
    readonly liquidate: boolean;
    readonly limits: OperatorLimits;
  };
  /** the model whose predictions the strategy was given (null: none) */
  readonly modelId: string | null;
}

export interface SessionSpec {
  readonly sessionId: string;
  readonly symbols: readonly string[];
  readonly strategy: StrategySpec;
  readonly seed: number;
  readonly start: KernelStart;
  /** the first decision that may trade: every bar before it only warms the kernel up */
  readonly tradeFrom: number;
  /** the end of a day cut short (null: the exchange's close) */
  readonly dayEndsAt: number | null;
  readonly flattenBeforeCloseMs: number;
}

/** A decision and the kernel that made it. */
export interface Decision {
  readonly result: StepResult;
  readonly kernel: TradingKernel;
  /** the model the kernel trades on (null: none) */
  readonly modelId: string | null;
  /** a retry of a decision this worker already made: the same answer, nothing stepped */
  readonly repeated: boolean;
}

export class StateLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateLostError';
  }
}

interface Entry {
  readonly kernel: TradingKernel;
  /** the model whose predictions the kernel trades now (null: the strategy's indicators alone) */
  modelId: string | null;
  /** the kernel's prediction port (a model switch swaps its model) */
  readonly port: PredictionPort | undefined;
  /** close time of the last decision stepped (null before the first) */
  lastAt: number | null;
  last?: { at: number; result: StepResult };
}

/** Kernels kept per worker process (one per running session; the oldest is dropped beyond this). */
const MAX_KERNELS = 32;

export class SessionDecider {
  private readonly kernels = new Map<string, Entry>();

  constructor(
    private readonly deps: {
      readonly bars: BarSource;
      readonly journal: DecisionJournal<DecisionInput>;
      /** a fresh prediction port of a model id for one session (absent: sessions with a model are refused) */
      readonly predictions?: (
        modelId: string,
        session: { readonly sessionId: string; readonly tradeFrom: number },
      ) => Promise<PredictionPort>;
    },
  ) {}

  /**
   * The decision at `at` (the close of the bar starting at `barTs`); `prevAt` is the previous decision's time.
   * A retry of a decision this worker already made returns the same answer without stepping again.
   */
  async decide(
    spec: SessionSpec,
    at: number,
    barTs: number,
    prevAt: number | null,
    input: DecisionInput,
  ): Promise<Decision> {
    let entry = this.kernels.get(spec.sessionId);
    if (entry?.last && entry.last.at === at)
      return { result: entry.last.result, kernel: entry.kernel, modelId: entry.modelId, repeated: true };
    if (!entry || entry.lastAt !== prevAt) entry = await this.rebuild(spec, prevAt, input, barTs);
    await switchModel(entry, input.modelId);
    await this.deps.journal.write(spec.sessionId, at, input);
    const kernel = entry.kernel;
    // New bars: from a little before the newest held one, so a bar that reached the store late is picked up.
    const loaded = kernel.loadedUntil;
    const after = loaded === null ? historyEnd(spec) : Math.min(loaded, barTs - 5 * 60_000);
    kernel.append(await this.deps.bars.barsBetween(spec.symbols, after, barTs));
    const result = await step(kernel, at, input, spec.dayEndsAt);
    entry.lastAt = at;
    entry.last = { at, result };
    return { result, kernel, modelId: entry.modelId, repeated: false };
  }

  /** A fresh kernel warmed up on the history before the open, then stepped through the journal up to `prevAt`. */
  private async rebuild(
    spec: SessionSpec,
    prevAt: number | null,
    current: DecisionInput,
    barTs: number,
  ): Promise<Entry> {
    const rows = prevAt === null ? [] : await this.deps.journal.read(spec.sessionId, prevAt);
    if (prevAt !== null && rows[rows.length - 1]?.closeTs !== prevAt)
      throw new StateLostError(
        `decide: the decision journal of session ${spec.sessionId} ends before ${new Date(prevAt).toISOString()}; its kernel cannot be rebuilt`,
      );
    const first = rows[0]?.input ?? current;
    const strategy = createStrategy(spec.strategy);
    const modelId = first.modelId;
    const predictions = modelId ? await this.predictionsFor(modelId, spec) : undefined;
    const kernel = new TradingKernel(
      {
        strategy,
        session: spec.sessionId,
        seed: spec.seed,
        limits: withOperatorLimits(first.controls.limits),
        predictions,
        start: spec.start,
        flattenBeforeCloseMs: spec.flattenBeforeCloseMs,
        tradeFrom: spec.tradeFrom,
      },
      spec.symbols.map((symbol) => ({ symbol, timeframe: '1m' as const })),
    );
    const startAccount = snapshotAccount(first.account);
    kernel.holdAtStart(startAccount);
    // warm-up: the bars before the first decision (the days before, and the day's own bars before a late start),
    // stepped without trading, as a backtest's trade-from window
    // warm-up: long enough for the strategy's indicators and the model's features (the larger of the two)
    const from = warmUpFrom(strategy, spec.tradeFrom, spec.symbols, predictions?.warmUpSessions ?? 0);
    const until = historyEnd(spec);
    kernel.append(await this.deps.bars.barsBetween(spec.symbols, from - 1, until));
    for (let t = kernel.nextStep(); t < spec.tradeFrom; t = kernel.nextStep()) {
      kernel.advance(t);
      await kernel.decide(t, startAccount);
    }
    if (rows.length) {
      kernel.append(await this.deps.bars.barsBetween(spec.symbols, until, barTs));
    }
    const entry: Entry = { kernel, modelId: modelId ?? null, port: predictions, lastAt: prevAt };
    // the journal's decisions again, each with the model it was made with (a session may switch models)
    for (const r of rows) {
      await switchModel(entry, r.input.modelId);
      await step(kernel, r.closeTs, r.input, spec.dayEndsAt);
    }
    this.kernels.set(spec.sessionId, entry);
    if (this.kernels.size > MAX_KERNELS) this.kernels.delete(this.kernels.keys().next().value!);
    return entry;
  }

  private async predictionsFor(modelId: string, spec: SessionSpec): Promise<PredictionPort> {
    if (!this.deps.predictions)
      throw new RangeError(`modelId: "${modelId}" given, but this worker serves no models`);
    return this.deps.predictions(modelId, { sessionId: spec.sessionId, tradeFrom: spec.tradeFrom });
  }
}

/** Makes the entry's port trade `modelId` from this decision on (the session's setModel control). */
async function switchModel(entry: Entry, modelId: string | null): Promise<void> {
  if (modelId === entry.modelId) return;
  if (!modelId || !entry.port?.swap)
    throw new ValidationError(
      'modelId',
      `${entry.modelId ?? 'no model'} → ${modelId ?? 'no model'}: a session switches only from one model to another`,
    );
  await entry.port.swap(modelId);
  entry.modelId = modelId;
}

/** The newest bar start that is history for the first decision (its bar closes before the first decision). */
function historyEnd(spec: SessionSpec): number {
  return spec.tradeFrom - 60_000 - 1;
}

async function step(
  kernel: TradingKernel,
  at: number,
  input: DecisionInput,
  dayEndsAt: number | null,
): Promise<StepResult> {
  kernel.advance(at);
  const controls: KernelControls = {
    paused: input.controls.paused,
    liquidate: input.controls.liquidate,
    limits: withOperatorLimits(input.controls.limits),
    ...(dayEndsAt !== null ? { dayEndsAt } : {}),
  };
  return kernel.decide(at, snapshotAccount(input.account), controls);
}
