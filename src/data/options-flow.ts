/**
 * Options-flow ingest: Unusual Whales pages → options_flow (idempotent by alert id). Records the client
 * could not read are reported to data_quality with the request and field, never stored.
 */
import type { MarketDataRepository } from '../storage/market-data-repo';
import type { UnusualWhalesClient } from './unusual-whales';

export async function ingestOptionsFlow(opts: {
  client: UnusualWhalesClient;
  repo: Pick<MarketDataRepository, 'upsertOptionsFlow' | 'writeFindings'>;
  ticker: string;
  fromMs: number;
  toMs: number;
  /** The backfill chunk writing the findings (a retried chunk replaces its own). */
  chunkKey?: string;
  signal?: AbortSignal;
}): Promise<{ stored: number; changed: number; rejected: number }> {
  let stored = 0;
  let changed = 0;
  let rejected = 0;
  for await (const page of opts.client.flowAlerts(opts.ticker, opts.fromMs, opts.toMs, opts.signal)) {
    changed += await opts.repo.upsertOptionsFlow(page.rows, 'unusual-whales');
    stored += page.rows.length;
    rejected += page.problems.length;
    if (page.problems.length) {
      await opts.repo.writeFindings(
        page.problems.map((p) => ({
          symbol: opts.ticker,
          timeframe: null,
          ts: null,
          rule: 'parse_error' as const,
          severity: 'reject' as const,
          value: '',
          detail: `${p.field}: ${p.problem}`,
          location: `${page.location} record ${p.index}`,
          field: p.field,
        })),
        { source: 'unusual-whales', dataset: 'options_flow', chunkKey: opts.chunkKey },
      );
    }
  }
  return { stored, changed, rejected };
}
