import type { QualityReportRow } from '../storage/market-data-repo';

/** Plain-text data-quality report: one block per set, one line per symbol/timeframe/rule. */
export function formatQualityReport(rows: readonly QualityReportRow[]): string {
  if (rows.length === 0) return 'no data-quality findings';
  const out: string[] = [];
  let current: string | null | undefined;
  for (const r of rows) {
    if (r.dataset !== current) {
      current = r.dataset;
      const total = rows.filter((x) => x.dataset === r.dataset).reduce((s, x) => s + x.count, 0);
      out.push(`\n== ${r.dataset ?? '(no set)'}: ${total} findings`);
    }
    const first =
      r.firstTs === null ? '' : ` first ${new Date(r.firstTs).toISOString().replace('.000Z', 'Z')}`;
    out.push(
      `  ${r.symbol.padEnd(8)} ${(r.timeframe ?? 'quote').padEnd(5)} ${r.rule.padEnd(18)} ${r.severity.padEnd(10)} ${String(r.count).padStart(7)}${first}  e.g. ${r.example}`,
    );
  }
  return out.join('\n').trimStart();
}
