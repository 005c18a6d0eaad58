/**
 * Streaming CSV ingest: read → parse → validate → COPY batches, with every finding written next to the
 * batch it belongs to (one transaction). Used by the CLI import, the backfill activities and the bench.
 *
 * A backfill chunk owns the lines whose running-maximum timestamp falls in its window, so every line of
 * a sorted file belongs to exactly one month chunk, including malformed or out-of-order lines.
 */
import { relative } from 'node:path';
import type { Timeframe } from '../model/timeframe';
import { calendarFor, type ExchangeCalendar } from '../market/calendar';
import { BarValidator, QuoteValidator, type QualityFinding, type QualityRule } from '../market/validation';
import { copyEscape, type MarketDataRepository } from '../storage/market-data-repo';
import {
  BAR_HEADER,
  QUOTE_HEADER,
  checkHeader,
  describeSharedDataFile,
  isProblem,
  parseBarLine,
  parseQuoteLine,
  readCsvLines,
  type CsvLine,
} from './csv';

export interface IngestCursor {
  /** Last file line fully processed and committed. */
  readonly line: number;
  /** Sequence number of the last committed batch of this chunk. */
  readonly batchSeq: number;
  readonly rowsStored: number;
  /** Tallies up to this cursor, so a resumed run reports the same totals as an uninterrupted one. */
  readonly tallies?: IngestTallies;
}

export interface IngestTallies {
  readonly rejected: number;
  readonly findingsByRule: Partial<Record<QualityRule, number>>;
  readonly rejectedByRule: Partial<Record<QualityRule, number>>;
}

export interface IngestSummary {
  readonly symbol: string;
  readonly timeframe: Timeframe | null;
  readonly linesRead: number;
  readonly rowsStored: number;
  readonly rowsChanged: number;
  readonly rejected: number;
  /** Findings per rule (all severities). */
  readonly findingsByRule: Partial<Record<QualityRule, number>>;
  /** Rows not stored, per rule. */
  readonly rejectedByRule: Partial<Record<QualityRule, number>>;
  readonly cursor: IngestCursor;
}

export interface CsvIngestOptions {
  readonly path: string;
  readonly repo: Pick<MarketDataRepository, 'writeBars' | 'writeQuotes'>;
  /** Line source override (tests); default streams `path` from disk. */
  readonly lines?: AsyncIterable<CsvLine[]>;
  /** Overrides what the shared-data layout implies. */
  readonly symbol?: string;
  readonly timeframe?: Timeframe;
  readonly kind?: 'bars' | 'quotes';
  readonly dataset?: string;
  /** Stored in bars.source; default `csv:<dataset>`. */
  readonly source?: string;
  readonly calendar?: ExchangeCalendar;
  /** Lines per committed batch (default 100,000). */
  readonly batchLines?: number;
  /** Only lines owned by [fromMs, toMs) (running-max ownership); default the whole file. */
  readonly window?: { readonly fromMs: number; readonly toMs: number; readonly ownsLeading?: boolean };
  /** Within the window, store only rows in these [from, to) ranges (gap-fill). Others are context only. */
  readonly onlyRanges?: ReadonlyArray<readonly [number, number]>;
  /** Resume after a committed cursor (lines up to it are replayed into the validator only). */
  readonly resume?: IngestCursor;
  readonly chunkKey?: string;
  /** Stop after this many data lines (tests sample huge files). */
  readonly maxDataLines?: number;
  /** Path prefix removed from locations (file:line). */
  readonly locationBase?: string;
  readonly onBatch?: (cursor: IngestCursor, summary: IngestSummary) => void | Promise<void>;
}

const ISO_PREFIX_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/;
/** Validator context replayed at a window start: enough for the robust z-score's history. */
const CONTEXT_ROWS = 300;

function bump(m: Partial<Record<QualityRule, number>>, rule: QualityRule): void {
  m[rule] = (m[rule] ?? 0) + 1;
}

export async function ingestCsvFile(opts: CsvIngestOptions): Promise<IngestSummary> {
  const described = describeSharedDataFile(opts.path);
  const kind = opts.kind ?? described.kind;
  const symbol = opts.symbol ?? described.symbol;
  const timeframe = kind === 'bars' ? (opts.timeframe ?? described.timeframe ?? '1m') : null;
  const dataset = opts.dataset ?? described.dataset;
  const source = opts.source ?? `csv:${dataset}`;
  const calendar = opts.calendar ?? calendarFor(symbol);
  const batchLines = opts.batchLines ?? 100_000;
  const fileLabel = opts.locationBase ? relative(opts.locationBase, opts.path) : opts.path;
  const barValidator = timeframe ? new BarValidator({ symbol, timeframe, calendar }) : null;
  const quoteValidator = timeframe ? null : new QuoteValidator(symbol);
  const fromIso = opts.window ? new Date(opts.window.fromMs).toISOString().replace('.000Z', 'Z') : '';
  const toIso = opts.window ? new Date(opts.window.toMs).toISOString().replace('.000Z', 'Z') : '';
  const ownsLeading = opts.window?.ownsLeading ?? true;
  const resumeLine = opts.resume?.line ?? 0;
  const inRanges = (ts: number) => !opts.onlyRanges || opts.onlyRanges.some(([a, b]) => ts >= a && ts < b);

  let linesRead = 0;
  let rowsStored = opts.resume?.rowsStored ?? 0;
  let rowsChanged = 0;
  let rejected = opts.resume?.tallies?.rejected ?? 0;
  const findingsByRule: Partial<Record<QualityRule, number>> = { ...opts.resume?.tallies?.findingsByRule };
  const rejectedByRule: Partial<Record<QualityRule, number>> = { ...opts.resume?.tallies?.rejectedByRule };
  let batchSeq = opts.resume?.batchSeq ?? 0;
  let lastLine = resumeLine;

  // Row text is collected in small pieces and flattened every few thousand rows: one long `+=` chain
  // keeps millions of tiny strings alive until COPY, and the GC then dominates the import.
  let copyParts: string[] = [];
  let lineBuf: string[] = [];
  const takeCopyText = () => {
    if (lineBuf.length) copyParts.push(lineBuf.join(''));
    const text = copyParts.join('');
    copyParts = [];
    lineBuf = [];
    return text;
  };
  const addLine = (line: string) => {
    lineBuf.push(line);
    if (lineBuf.length >= 2048) {
      copyParts.push(lineBuf.join(''));
      lineBuf = [];
    }
  };
  // Constant parts of each bars COPY line (see BAR_COPY_COLUMNS); the ts is the file's own ISO text.
  const rowHead = `${copyEscape(symbol)}\t${timeframe}\t`;
  const rowTail = `\t\\N\t\\N\t${copyEscape(source)}\tf\n`;
  let count = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  let findings: QualityFinding[] = [];
  let linesInBatch = 0;
  let runningMax = '';
  const context: CsvLine[] = [];
  let contextReplayed = !opts.window;
  let dataLines = 0;

  const summary = (): IngestSummary => ({
    symbol,
    timeframe,
    linesRead,
    rowsStored,
    rowsChanged,
    rejected,
    findingsByRule,
    rejectedByRule,
    cursor: {
      line: lastLine,
      batchSeq,
      rowsStored,
      tallies: { rejected, findingsByRule: { ...findingsByRule }, rejectedByRule: { ...rejectedByRule } },
    },
  });

  // One batch is written while the next is parsed (Postgres and Node work in parallel); commits stay in
  // order and a batch's cursor is reported only after its commit.
  let inflight: Promise<void> | null = null;
  let rowsQueued = rowsStored;
  const flush = async () => {
    if (linesInBatch === 0) return;
    batchSeq++;
    rowsQueued += count;
    const ctx = { source, dataset, chunkKey: opts.chunkKey, batchSeq };
    const cursor: IngestCursor = {
      line: lastLine,
      batchSeq,
      rowsStored: rowsQueued,
      tallies: { rejected, findingsByRule: { ...findingsByRule }, rejectedByRule: { ...rejectedByRule } },
    };
    const batchFindings = findings;
    const barBatch =
      timeframe && count > 0
        ? { symbol, timeframe, source, synthetic: false, copyText: takeCopyText(), count, minTs, maxTs }
        : null;
    const quoteBatch =
      !timeframe && count > 0
        ? { symbol, source, synthetic: false, copyText: takeCopyText(), count, minTs, maxTs }
        : null;
    if (count === 0) takeCopyText();
    count = 0;
    minTs = Infinity;
    maxTs = -Infinity;
    findings = [];
    linesInBatch = 0;
    const prev = inflight;
    inflight = (async () => {
      if (prev) await prev;
      const r = timeframe
        ? await opts.repo.writeBars(barBatch, batchFindings, ctx)
        : await opts.repo.writeQuotes(quoteBatch, batchFindings, ctx);
      rowsChanged += r.changed;
      rowsStored = cursor.rowsStored;
      await opts.onBatch?.(cursor, { ...summary(), cursor });
    })();
    // Marked handled here; the error still surfaces where the promise is awaited.
    inflight.catch(() => undefined);
    if (prev) await prev;
  };

  /** Validates a line; `live` false replays it for context only (nothing stored or reported). */
  const processLine = (ln: CsvLine, live: boolean) => {
    const location = `${fileLabel}:${ln.lineNo}`;
    if (timeframe) {
      const row = parseBarLine(ln.text);
      if (isProblem(row)) {
        if (!live) return;
        findings.push({
          symbol,
          timeframe,
          ts: null,
          rule: 'parse_error',
          severity: 'reject',
          value: row.value,
          detail: `${row.field}: ${row.problem}`,
          location,
          field: row.field,
        });
        bump(findingsByRule, 'parse_error');
        bump(rejectedByRule, 'parse_error');
        rejected++;
        return;
      }
      const verdict = barValidator!.check(row, location);
      if (!live) return;
      const storeIt = inRanges(row.ts);
      if (!storeIt) return;
      for (const f of verdict.findings) {
        findings.push(f);
        bump(findingsByRule, f.rule);
      }
      if (!verdict.accepted) {
        rejected++;
        bump(rejectedByRule, verdict.findings[0]!.rule);
        return;
      }
      const f = row.fields;
      addLine(`${rowHead}${f[0]}\t${f[1]}\t${f[2]}\t${f[3]}\t${f[4]}\t${f[5]}${rowTail}`);
      count++;
      if (row.ts < minTs) minTs = row.ts;
      if (row.ts > maxTs) maxTs = row.ts;
    } else {
      const row = parseQuoteLine(ln.text);
      if (isProblem(row)) {
        if (!live) return;
        findings.push({
          symbol,
          timeframe: null,
          ts: null,
          rule: 'parse_error',
          severity: 'reject',
          value: row.value,
          detail: `${row.field}: ${row.problem}`,
          location,
          field: row.field,
        });
        bump(findingsByRule, 'parse_error');
        bump(rejectedByRule, 'parse_error');
        rejected++;
        return;
      }
      const verdict = quoteValidator!.check(row, location);
      if (!live || !inRanges(row.ts)) return;
      for (const f of verdict.findings) {
        findings.push(f);
        bump(findingsByRule, f.rule);
      }
      if (!verdict.accepted) {
        rejected++;
        bump(rejectedByRule, verdict.findings[0]!.rule);
        return;
      }
      const f = row.fields;
      addLine(`${row.ts}\t${f[1] === '' ? '\\N' : f[1]}\t${f[2] === '' ? '\\N' : f[2]}\t${f[3]}\t${f[4]}\n`);
      count++;
      if (row.ts < minTs) minTs = row.ts;
      if (row.ts > maxTs) maxTs = row.ts;
    }
  };

  let headerSeen = false;
  outer: for await (const lines of opts.lines ?? readCsvLines(opts.path)) {
    for (const ln of lines) {
      if (!headerSeen) {
        checkHeader(ln.text, timeframe ? BAR_HEADER : QUOTE_HEADER, `${fileLabel}:${ln.lineNo}`);
        headerSeen = true;
        continue;
      }
      if (ln.text === '') continue;
      dataLines++;
      if (opts.maxDataLines !== undefined && dataLines > opts.maxDataLines) break outer;
      if (opts.window) {
        const prefix = ln.text.slice(0, 20);
        if (ISO_PREFIX_RE.test(prefix) && prefix > runningMax) runningMax = prefix;
        const owned = runningMax === '' ? ownsLeading : runningMax >= fromIso && runningMax < toIso;
        if (runningMax >= toIso) break outer;
        if (!owned) {
          context.push(ln);
          if (context.length > CONTEXT_ROWS * 2) context.splice(0, context.length - CONTEXT_ROWS);
          continue;
        }
        if (!contextReplayed) {
          for (const c of context.slice(-CONTEXT_ROWS)) processLine(c, false);
          context.length = 0;
          contextReplayed = true;
        }
      }
      linesRead++;
      if (ln.lineNo <= resumeLine) {
        processLine(ln, false);
        continue;
      }
      processLine(ln, true);
      lastLine = ln.lineNo;
      linesInBatch++;
      if (linesInBatch >= batchLines) await flush();
    }
  }
  if (!headerSeen) throw new RangeError(`${fileLabel}: file is empty (no header line)`);
  await flush();
  if (inflight) await inflight;
  return summary();
}
