import type { ModelRegistry } from '../registry/registry';
import { loadServedModel, type LoadOptions, type ServedModel } from '../serving/served-model';

/**
 * Serves the current champion of a model name (any kind) through `loadServedModel`. The served model is cached per
 * model id and swapped when a new champion is promoted (checked at most every `refreshMs`), so inference never
 * blocks on the registry and a promotion takes effect without a restart. The caller must build rows for the model
 * `refresh()` returns (its feature names and window can change with the champion).
 */
export class ChampionScorer {
  private current?: ServedModel;
  private checkedAt = 0;

  constructor(
    private readonly registry: ModelRegistry,
    readonly name: string,
    private readonly refreshMs = 30_000,
    private readonly now: () => number = Date.now,
    private readonly opts: LoadOptions = {},
  ) {}

  /** The champion in use after a refresh, or undefined when the name has no champion. */
  async refresh(force = false): Promise<ServedModel | undefined> {
    if (!force && this.current && this.now() - this.checkedAt < this.refreshMs) return this.current;
    this.checkedAt = this.now();
    const champ = await this.registry.champion(this.name);
    if (!champ) return this.current;
    if (this.current?.id !== champ.id) {
      const next = await loadServedModel(this.registry, champ.id, this.opts);
      const old = this.current;
      this.current = next;
      await old?.close();
    }
    return this.current;
  }

  /** Scores rows laid out for the champion in use; returns its id with the scores (and interval, when it has one). */
  async score(
    features: Float32Array,
    rows: number,
  ): Promise<
    { modelId: string; scores: Float32Array; lower?: Float32Array; upper?: Float32Array } | undefined
  > {
    const c = await this.refresh();
    if (!c) return undefined;
    const r = await c.score(features, rows);
    return { modelId: c.id, scores: r.score, lower: r.lower, upper: r.upper };
  }

  async close(): Promise<void> {
    await this.current?.close();
    this.current = undefined;
  }
}
