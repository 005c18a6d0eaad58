/**
 * Backfill planning: symbol × timeframe × month chunks, and for gap-fill the days whose stored bars fall
 * short of what the calendar expects. Pure apart from the stored-times lookup passed in.
 */
import type { Timeframe } from '../model/timeframe';
import { TIMEFRAME_MS } from '../model/timeframe';
import { bucketStart } from '../market/aggregate';
import { calendarFor, dateLabelMs, type Session } from '../market/calendar';
import type { BackfillChunk, BackfillInput } from '../../contracts/backfill';

/** UTC month starts covering [fromMs, toMs). */
export function monthWindows(fromMs: number, toMs: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const d = new Date(fromMs);
  let start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  while (start < toMs) {
    const s = new Date(start);
    const next = Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 1);
    out.push([Math.max(start, fromMs), Math.min(next, toMs)]);
    start = next;
  }
  return out;
}

export function chunkKey(
  input: Pick<BackfillInput, 'source'>,
  symbol: string,
  tf: Timeframe,
  fromMs: number,
): string {
  const src =
    input.source.kind === 'csv'
      ? `csv:${input.source.dataset}`
      : input.source.kind === 'synthetic'
        ? `synthetic:${input.source.seed}`
        : input.source.kind;
  return `${src}:${symbol}:${tf}:${new Date(fromMs).toISOString().slice(0, 7)}`;
}

export function planChunks(input: BackfillInput): BackfillChunk[] {
  if (!(input.toMs > input.fromMs)) throw new RangeError('toMs: must be after fromMs');
  if (input.symbols.length === 0) throw new RangeError('symbols: at least one symbol is needed');
  const out: BackfillChunk[] = [];
  for (const symbol of input.symbols) {
    for (const timeframe of input.timeframes) {
      monthWindows(input.fromMs, input.toMs).forEach(([fromMs, toMs], i) => {
        out.push({
          key: chunkKey(input, symbol, timeframe, fromMs),
          symbol,
          timeframe,
          fromMs,
          toMs,
          source: input.source,
          ownsLeading: i === 0,
          ...(input.batchLines ? { batchLines: input.batchLines } : {}),
          ...(input.notBeforeMs !== undefined ? { notBeforeMs: input.notBeforeMs } : {}),
        });
      });
    }
  }
  return out;
}

/** Expected bar start times of one session (regular hours) for a timeframe. */
function expectedSlots(s: Session, tf: Timeframe, symbol: string): number[] {
  const cal = calendarFor(symbol);
  if (tf === '1d') return [cal.name === 'CRYPTO' ? s.openMs : dateLabelMs(s.date)];
  const out: number[] = [];
  for (let t = s.openMs; t < s.closeMs; t += TIMEFRAME_MS['1m']) {
    const b = bucketStart(t, tf, { calendar: cal });
    if (b !== null && out.at(-1) !== b) out.push(b);
  }
  return out;
}

/**
 * Days of a chunk where fewer bars are stored than the calendar expects, merged into [from, to) ranges.
 * `minCoverage` (0–1) tolerates thin minute data: a day counts as present when that share of its slots
 * is stored (default 1 for 1d/1h, 0.5 for finer timeframes whose missing minutes can mean no trades).
 */
export function missingRanges(
  chunk: BackfillChunk,
  storedTs: readonly number[],
  minCoverage?: number,
): Array<[number, number]> {
  const cal = calendarFor(chunk.symbol);
  const cover = minCoverage ?? (chunk.timeframe === '1d' || chunk.timeframe === '1h' ? 1 : 0.5);
  const stored = new Set(storedTs);
  const ranges: Array<[number, number]> = [];
  for (const s of cal.sessionsBetween(chunk.fromMs, chunk.toMs)) {
    const slots = expectedSlots(s, chunk.timeframe, chunk.symbol);
    const have = slots.filter((t) => stored.has(t)).length;
    if (have >= Math.ceil(slots.length * cover)) continue;
    // The day's range as stored keys: 1d bars are keyed by the date label, intraday by bar start.
    const from = Math.min(slots[0]!, s.openMs);
    const to = Math.max(s.closeMs, slots.at(-1)! + 1);
    const last = ranges.at(-1);
    if (last && last[1] >= from - 86_400_000 && last[1] <= from) last[1] = to;
    else ranges.push([from, to]);
  }
  return ranges;
}
