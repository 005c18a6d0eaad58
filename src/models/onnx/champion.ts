import { readFileSync } from 'node:fs';
import type { ModelRegistry } from '../registry/registry';
import { OnnxScorer } from './serving';

/**
 * Scores with the current champion of a model name through ONNX Runtime. The session is cached per model id and
 * swapped when a new champion is promoted (checked at most every `refreshMs`), so inference never blocks on the
 * registry and a promotion takes effect without a restart.
 */
export class ChampionScorer {
  private current?: { id: string; scorer: OnnxScorer; featureNames: string[]; featureSetVersion: string };
  private checkedAt = 0;

  constructor(
    private readonly registry: ModelRegistry,
    readonly name: string,
    private readonly refreshMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The champion in use after a refresh, or undefined when the name has no champion. */
  async refresh(
    force = false,
  ): Promise<{ id: string; featureNames: string[]; featureSetVersion: string } | undefined> {
    if (!force && this.current && this.now() - this.checkedAt < this.refreshMs) return this.current;
    this.checkedAt = this.now();
    const champ = await this.registry.champion(this.name);
    if (!champ?.artifacts.onnx) return this.current;
    if (this.current?.id !== champ.id) {
      const featureNames = (champ.metrics as { featureNames?: string[] }).featureNames;
      if (!featureNames?.length)
        throw new Error(`champion ${champ.id}: metrics.featureNames missing; cannot size the ONNX input`);
      const scorer = await OnnxScorer.create(readFileSync(champ.artifacts.onnx), featureNames.length);
      const old = this.current;
      this.current = { id: champ.id, scorer, featureNames, featureSetVersion: champ.featureSetVersion };
      await old?.scorer.close();
    }
    return this.current;
  }

  /** Scores row-major features (the champion's feature order); returns the model id with the scores. */
  async score(
    features: Float32Array,
    rows: number,
  ): Promise<{ modelId: string; scores: Float32Array } | undefined> {
    const c = await this.refresh();
    if (!c || !this.current) return undefined;
    return { modelId: c.id, scores: await this.current.scorer.score(features, rows) };
  }

  async close(): Promise<void> {
    await this.current?.scorer.close();
    this.current = undefined;
  }
}
