/**
 * Cross-check: daily (and hourly) bars built from the minute sets with the session-aware aggregation,
 * compared with the daily/hourly sets for the same symbol and dates. Differences are reported, never
 * smoothed over: adjusted vs raw prices, extended-hours prints and vendor differences all show up.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bar } from '../model/bar';
import type { Timeframe } from '../model/timeframe';
import { aggregateBars } from '../market/aggregate';
import { calendarFor } from '../market/calendar';
import { isProblem, parseBarLine, readCsvLines, timeframeDir } from './csv';
import { readManifest } from './shared-data';

export interface CrossCheckDiff {
  readonly ts: number;
  readonly field: 'open' | 'high' | 'low' | 'close' | 'volume' | 'missing';
  readonly derived: number;
  readonly stored: number;
  /** (derived - stored) / stored */
  readonly relDiff: number;
}

export interface CrossCheckPair {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly minuteSet: string;
  readonly referenceSet: string;
  /** Dates (bars) present in both. */
  readonly compared: number;
  /** Bars whose OHLC agree within the tolerance. */
  readonly pricesAgree: number;
  readonly volumeAgree: number;
  readonly diffs: readonly CrossCheckDiff[];
}

async function readBarsFile(path: string, symbol: string, timeframe: Timeframe): Promise<Bar[]> {
  const out: Bar[] = [];
  let header = true;
  let lastTs = -Infinity;
  for await (const lines of readCsvLines(path)) {
    for (const l of lines) {
      if (header) {
        header = false;
        continue;
      }
      const r = parseBarLine(l.text);
      // Rows the importer would reject are not part of the comparison either.
      if (isProblem(r) || r.ts <= lastTs) continue;
      lastTs = r.ts;
      out.push({
        symbol,
        timeframe,
        ts: r.ts,
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: r.volume,
      });
    }
  }
  return out;
}

const PRICE_TOL = 1e-6;
const VOLUME_TOL = 1e-3;

function compare(
  derived: readonly Bar[],
  stored: readonly Bar[],
): Omit<CrossCheckPair, 'symbol' | 'timeframe' | 'minuteSet' | 'referenceSet'> {
  const byTs = new Map(stored.map((b) => [b.ts, b]));
  const diffs: CrossCheckDiff[] = [];
  let compared = 0;
  let pricesAgree = 0;
  let volumeAgree = 0;
  for (const d of derived) {
    const s = byTs.get(d.ts);
    if (!s) {
      diffs.push({ ts: d.ts, field: 'missing', derived: d.close, stored: NaN, relDiff: NaN });
      continue;
    }
    compared++;
    let ok = true;
    for (const f of ['open', 'high', 'low', 'close'] as const) {
      const rel = (d[f] - s[f]) / s[f];
      if (Math.abs(rel) > PRICE_TOL) {
        ok = false;
        diffs.push({ ts: d.ts, field: f, derived: d[f], stored: s[f], relDiff: rel });
      }
    }
    if (ok) pricesAgree++;
    const relV = s.volume === 0 ? (d.volume === 0 ? 0 : Infinity) : (d.volume - s.volume) / s.volume;
    if (Math.abs(relV) <= VOLUME_TOL) volumeAgree++;
    else diffs.push({ ts: d.ts, field: 'volume', derived: d.volume, stored: s.volume, relDiff: relV });
  }
  return { compared, pricesAgree, volumeAgree, diffs };
}

/**
 * Every (minute set, daily or hourly set, symbol) in the shared-data folder that overlaps. Minute days
 * are aggregated over the regular session only (the daily and hourly sets are regular-session bars).
 */
export async function crossCheckSharedData(dir: string): Promise<CrossCheckPair[]> {
  const manifest = readManifest(dir);
  const minuteFiles = manifest.filter((e) => e.kind === 'bars' && e.timeframe === '1m' && e.rows < 1_000_000);
  const out: CrossCheckPair[] = [];
  for (const m of minuteFiles) {
    const cal = calendarFor(m.symbol);
    if (cal.name !== 'NYSE') continue;
    const minutes = await readBarsFile(join(dir, m.path), m.symbol, '1m');
    for (const tf of ['1d', '1h'] as const) {
      const derived = aggregateBars(minutes, tf, { calendar: cal });
      const days = new Set(derived.map((b) => cal.localDate(b.ts + (tf === '1d' ? 12 * 3_600_000 : 0))));
      for (const ref of manifest.filter(
        (e) => e.kind === 'bars' && e.timeframe === tf && e.symbol === m.symbol,
      )) {
        const path = join(dir, ref.dataset, timeframeDir(tf), `${m.symbol}.csv.gz`);
        if (!existsSync(path)) continue;
        const stored = (await readBarsFile(path, m.symbol, tf)).filter((b) =>
          days.has(cal.localDate(b.ts + (tf === '1d' ? 12 * 3_600_000 : 0))),
        );
        if (stored.length === 0) continue;
        out.push({
          symbol: m.symbol,
          timeframe: tf,
          minuteSet: m.dataset,
          referenceSet: ref.dataset,
          ...compare(derived, stored),
        });
      }
    }
  }
  return out;
}

export function formatCrossCheck(pairs: readonly CrossCheckPair[]): string {
  const lines: string[] = [];
  for (const p of pairs) {
    lines.push(
      `${p.symbol.padEnd(5)} ${p.timeframe} ${p.minuteSet} → ${p.referenceSet}: ${p.compared} bars compared, OHLC agree ${p.pricesAgree}, volume agrees ${p.volumeAgree}, ${p.diffs.length} differences`,
    );
    for (const d of p.diffs.slice(0, 6)) {
      lines.push(
        `    ${new Date(d.ts).toISOString().replace('.000Z', 'Z')} ${d.field.padEnd(7)} derived ${d.derived} vs set ${d.stored} (${Number.isFinite(d.relDiff) ? `${(d.relDiff * 100).toFixed(3)}%` : 'n/a'})`,
      );
    }
    if (p.diffs.length > 6) lines.push(`    … ${p.diffs.length - 6} more`);
  }
  return lines.join('\n');
}
