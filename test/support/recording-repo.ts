import type {
  BarCopyBatch,
  FindingContext,
  QuoteCopyBatch,
  StageCommitResult,
  StageOptions,
  StagedRows,
  StagedWrite,
} from '../../src/storage/market-data-repo';
import type { QualityFinding } from '../../src/market/validation';

/**
 * An in-memory sink with the repository's write interface: records exactly what would be stored. Staged
 * rows are kept only when their write commits, as in the database.
 */
export class RecordingRepo {
  /** [ts ms, open, high, low, close, volume] (bars). */
  readonly barRows: string[][] = [];
  /** [ts ms, bid, ask, bid_size, ask_size] (quotes; '\N' for an empty side). */
  readonly quoteRows: string[][] = [];
  readonly findings: Array<QualityFinding & { ctx: FindingContext }> = [];
  /** Writes aborted (nothing of them stored). */
  aborted = 0;

  beginStaged(opts: StageOptions): Promise<StagedWrite> {
    const staged: string[][] = [];
    const write: StagedWrite = {
      stage: (rows: StagedRows) => {
        for (const line of rows.copyText.split('\n')) {
          if (!line) continue;
          const c = line.split('\t');
          staged.push(
            opts.kind === 'bars'
              ? [String(Date.parse(c[0]!)), c[1]!, c[2]!, c[3]!, c[4]!, c[5]!]
              : [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!],
          );
        }
        return Promise.resolve();
      },
      findings: (findings, batchSeq) => {
        for (const f of findings) this.findings.push({ ...f, ctx: { ...opts.ctx, batchSeq } });
        return Promise.resolve();
      },
      commit: (): Promise<StageCommitResult> => {
        (opts.kind === 'bars' ? this.barRows : this.quoteRows).push(...staged);
        return Promise.resolve({
          stored: staged.length,
          changed: staged.length,
          skippedSynthetic: 0,
          firstSkipped: null,
        });
      },
      abort: () => {
        this.aborted++;
        return Promise.resolve();
      },
    };
    return Promise.resolve(write);
  }

  writeFindings(findings: readonly QualityFinding[], ctx: FindingContext): Promise<void> {
    for (const f of findings) this.findings.push({ ...f, ctx });
    return Promise.resolve();
  }

  writeBars(
    batch: BarCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    if (batch) {
      for (const line of batch.copyText.split('\n')) {
        if (!line) continue;
        const c = line.split('\t');
        this.barRows.push([String(Date.parse(c[2]!)), c[3]!, c[4]!, c[5]!, c[6]!, c[7]!]);
      }
    }
    for (const f of findings) this.findings.push({ ...f, ctx });
    return Promise.resolve({ changed: batch?.count ?? 0 });
  }

  writeQuotes(
    batch: QuoteCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    if (batch) for (const line of batch.copyText.split('\n')) if (line) this.quoteRows.push(line.split('\t'));
    for (const f of findings) this.findings.push({ ...f, ctx });
    return Promise.resolve({ changed: batch?.count ?? 0 });
  }
}
