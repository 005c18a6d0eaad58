import type { BarCopyBatch, FindingContext, QuoteCopyBatch } from '../../src/storage/market-data-repo';
import type { QualityFinding } from '../../src/market/validation';

/** An in-memory sink with the repository's write interface: records exactly what would be stored. */
export class RecordingRepo {
  readonly barRows: string[][] = [];
  readonly quoteRows: string[][] = [];
  readonly findings: Array<QualityFinding & { ctx: FindingContext }> = [];

  writeBars(
    batch: BarCopyBatch | null,
    findings: readonly QualityFinding[],
    ctx: FindingContext,
  ): Promise<{ changed: number }> {
    // Stored as [ts ms, open, high, low, close, volume] from the COPY line (BAR_COPY_COLUMNS order).
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
