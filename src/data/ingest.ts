/**
 * Streaming CSV ingest: read → parse → validate → stage, then one atomic merge. A file (or a backfill
 * chunk of it) reaches `bars` whole or not at all: every row is parsed and validated and the accepted
 * ones are COPYed into a staging table before anything stored is replaced, and a row the database
 * refuses rolls the whole write back and is named by file, line and field. Findings are written next to
 * the batch they belong to. Used by the CLI import, the backfill activities and the bench.
 *
 * A backfill chunk owns the lines whose running-maximum plausible timestamp falls in its window, so every
 * line of a sorted file belongs to exactly one month chunk, including malformed or out-of-order lines. A
 * timestamp from the far future (2099) or past is rejected by the chunk that reads it and moves no window.
 */
import { relative } from 'node:path';
import type { Timeframe } from '../model/timeframe';
import { TIMEFRAME_MS } from '../model/timeframe';
import { TemporaryError, ValidationError } from '../model/errors';
import { calendarFor, type ExchangeCalendar } from '../market/calendar';
import {
  BarValidator,
  QuoteValidator,
  firstPlausibleMs,
  type QualityFinding,
  type QualityRule,
} from '../market/validation';
import { RowRefusedError, type MarketDataRepository, type StagedWrite } from '../storage/market-data-repo';
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

/** Progress after a staged batch (heartbeated by backfill chunks). */
export interface IngestCursor {
  /** Last file line processed and staged. */
  readonly line: number;
  /** Sequence number of the last staged batch of this file or chunk. */
  readonly batchSeq: number;
  /** Rows staged so far (stored once the write commits). */
  readonly rowsStored: number;
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

/**
 * A file (or chunk) that was not stored at all: unreadable (`file_error`: corrupt gzip, bad header, I/O)
 * or a row the database refused (`db_error`). Names the file, the line and the field; stored data is as it
 * was before. The message never quotes the file's content (it can travel into workflow histories).
 */
export class IngestError extends ValidationError {
  constructor(
    readonly rule: 'file_error' | 'db_error',
    readonly file: string,
    readonly line: number | null,
    field: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(field, problem, line === null ? file : `${file}:${line}`);
    if (options?.cause) (this as { cause?: unknown }).cause = options.cause;
  }
}

export interface CsvIngestOptions {
  readonly path: string;
  readonly repo: Pick<MarketDataRepository, 'beginStaged' | 'writeFindings'>;
  /** Line source override (tests); default streams `path` from disk. */
  readonly lines?: AsyncIterable<CsvLine[]>;
  /** Overrides what the shared-data layout implies (MANIFEST.csv's symbol, for one). */
  readonly symbol?: string;
  readonly timeframe?: Timeframe;
  readonly kind?: 'bars' | 'quotes';
  readonly dataset?: string;
  /** Stored in bars.source; default `csv:<dataset>`. */
  readonly source?: string;
  readonly calendar?: ExchangeCalendar;
  /** Rows before this are implausible (default: the calendar's first plausible day). */
  readonly notBeforeMs?: number;
  /** Wall clock for the "not in the future" check (tests). */
  readonly now?: () => number;
  /** Lines per staged batch (default 100,000). */
  readonly batchLines?: number;
  /** Only lines owned by [fromMs, toMs) (running-max ownership); default the whole file. */
  readonly window?: { readonly fromMs: number; readonly toMs: number; readonly ownsLeading?: boolean };
  /** Within the window, store only rows in these [from, to) ranges (gap-fill). Others are context only. */
  readonly onlyRanges?: ReadonlyArray<readonly [number, number]>;
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
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function bump(m: Partial<Record<QualityRule, number>>, rule: QualityRule): void {
  m[rule] = (m[rule] ?? 0) + 1;
}

/** Yields the line batches of `source`; a read error (corrupt gzip, I/O) becomes a file_error naming the file. */
async function* readable(
  source: AsyncIterable<CsvLine[]>,
  file: string,
  lastLine: () => number,
): AsyncGenerator<CsvLine[]> {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    let r: IteratorResult<CsvLine[]>;
    try {
      r = await it.next();
    } catch (e) {
      const why = (e as Error).message;
      throw new IngestError(
        'file_error',
        file,
        lastLine() + 1,
        'file',
        `cannot be read (${why}); the file was skipped and nothing of it was stored`,
        { cause: e },
      );
    }
    if (r.done) return;
    yield r.value;
  }
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
  const now = opts.now ?? Date.now;
  const bounds = { calendar, minTs: opts.notBeforeMs, now };
  const barValidator = timeframe ? new BarValidator({ symbol, timeframe, ...bounds }) : null;
  const quoteValidator = timeframe ? null : new QuoteValidator(symbol, bounds);
  const fromIso = opts.window ? iso(opts.window.fromMs) : '';
  const toIso = opts.window ? iso(opts.window.toMs) : '';
  // Window ownership follows only plausible timestamps: a 2099 row must not end the chunk.
  const floorIso = iso(Math.max(firstPlausibleMs(calendar), opts.notBeforeMs ?? -Infinity));
  const ceilIso = iso(now() + (timeframe ? TIMEFRAME_MS[timeframe] : 60_000));
  const ownsLeading = opts.window?.ownsLeading ?? true;
  const inRanges = (ts: number) => !opts.onlyRanges || opts.onlyRanges.some(([a, b]) => ts >= a && ts < b);

  let linesRead = 0;
  let rowsStaged = 0;
  let rowsStored = 0;
  let rowsChanged = 0;
  let rejected = 0;
  const findingsByRule: Partial<Record<QualityRule, number>> = {};
  const rejectedByRule: Partial<Record<QualityRule, number>> = {};
  let batchSeq = 0;
  let lastLine = 0;
  let lastLineSeen = 0;

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
  let count = 0;
  let minTs = Infinity;
  let maxTs = -Infinity;
  let months = new Set<string>();
  let lastMonth = '';
  let findings: QualityFinding[] = [];
  let linesInBatch = 0;
  let runningMax = '';
  const context: CsvLine[] = [];
  let contextReplayed = !opts.window;
  let dataLines = 0;

  const tallies = (): IngestTallies => ({
    rejected,
    findingsByRule: { ...findingsByRule },
    rejectedByRule: { ...rejectedByRule },
  });
  const summary = (cursor?: IngestCursor): IngestSummary => ({
    symbol,
    timeframe,
    linesRead,
    rowsStored,
    rowsChanged,
    rejected,
    findingsByRule,
    rejectedByRule,
    cursor: cursor ?? { line: lastLine, batchSeq, rowsStored: rowsStaged, tallies: tallies() },
  });

  let write: StagedWrite | null = null;
  const ctx = { source, dataset, chunkKey: opts.chunkKey };

  // One batch is staged while the next is parsed (Postgres and Node work in parallel); a batch's cursor
  // is reported only after it is staged.
  let inflight: Promise<void> | null = null;
  const flush = async () => {
    if (linesInBatch === 0) return;
    batchSeq++;
    rowsStaged += count;
    const seq = batchSeq;
    const cursor: IngestCursor = {
      line: lastLine,
      batchSeq: seq,
      rowsStored: rowsStaged,
      tallies: tallies(),
    };
    const batchFindings = findings;
    const rows = count > 0 ? { copyText: takeCopyText(), count, minTs, maxTs, months } : null;
    if (count === 0) takeCopyText();
    count = 0;
    minTs = Infinity;
    maxTs = -Infinity;
    months = new Set();
    lastMonth = '';
    findings = [];
    linesInBatch = 0;
    const w = write!;
    const prev = inflight;
    inflight = (async () => {
      if (prev) await prev;
      if (batchFindings.length) await w.findings(batchFindings, seq);
      if (rows) await w.stage(rows);
      await opts.onBatch?.(cursor, summary(cursor));
    })();
    // Marked handled here; the error still surfaces where the promise is awaited.
    inflight.catch(() => undefined);
    if (prev) await prev;
  };

  const parseProblem = (ln: CsvLine, p: { field: string; problem: string; value: string }) => {
    findings.push({
      symbol,
      timeframe,
      ts: null,
      rule: 'parse_error',
      severity: 'reject',
      value: p.value,
      detail: `${p.field}: ${p.problem}`,
      location: `${fileLabel}:${ln.lineNo}`,
      field: p.field,
    });
    bump(findingsByRule, 'parse_error');
    bump(rejectedByRule, 'parse_error');
    rejected++;
  };
  const accept = (ts: number, isoText: string) => {
    count++;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
    const mk = isoText.slice(0, 7);
    if (mk !== lastMonth) {
      months.add(mk);
      lastMonth = mk;
    }
  };

  /** Validates a line; `live` false replays it for context only (nothing stored or reported). */
  const processLine = (ln: CsvLine, live: boolean) => {
    const location = `${fileLabel}:${ln.lineNo}`;
    const row = timeframe ? parseBarLine(ln.text) : parseQuoteLine(ln.text);
    if (isProblem(row)) {
      if (live) parseProblem(ln, row);
      return;
    }
    const verdict = 'open' in row ? barValidator!.check(row, location) : quoteValidator!.check(row, location);
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
    if ('open' in row)
      addLine(`${f[0]}\t${f[1]}\t${f[2]}\t${f[3]}\t${f[4]}\t${f[5]}\t\\N\t\\N\t${ln.lineNo}\n`);
    else
      addLine(
        `${row.ts}\t${f[1] === '' ? '\\N' : f[1]}\t${f[2] === '' ? '\\N' : f[2]}\t${f[3]}\t${f[4]}\t${ln.lineNo}\n`,
      );
    accept(row.ts, f[0]!);
  };

  const failure = async (e: unknown): Promise<never> => {
    let err: unknown = e;
    if (e instanceof RowRefusedError) {
      const where = e.line !== null ? '' : e.ts !== null ? ` (row at ${iso(e.ts)})` : '';
      err = new IngestError(
        'db_error',
        fileLabel,
        e.line,
        e.field,
        `${e.message}${where}; nothing of this ${opts.window ? 'chunk' : 'file'} was stored`,
        { cause: e },
      );
    } else if (e instanceof ValidationError && !(e instanceof IngestError)) {
      // The header: the file is not in the expected format.
      err = new IngestError('file_error', fileLabel, 1, e.field, `${e.problem}; the file was skipped`, {
        cause: e,
      });
    } else if (!(e instanceof IngestError) && !(e instanceof TemporaryError)) {
      err = new TemporaryError(
        `${fileLabel}: ${(e as Error).message}; nothing of this file was stored (retry)`,
        undefined,
        { cause: e },
      );
    }
    if (err instanceof IngestError) {
      await opts.repo
        .writeFindings(
          [
            {
              symbol,
              timeframe,
              ts: e instanceof RowRefusedError ? e.ts : null,
              rule: err.rule,
              severity: 'reject',
              value: '',
              detail: `${err.field}: ${err.problem}`,
              location: err.location!,
              field: err.field,
            },
          ],
          { ...ctx, batchSeq: batchSeq + 1 },
        )
        .catch(() => undefined);
    }
    throw err;
  };

  try {
    write = await opts.repo.beginStaged({
      kind: timeframe ? 'bars' : 'quotes',
      symbol,
      ...(timeframe ? { timeframe } : {}),
      source,
      synthetic: false,
      ctx,
    });
    let headerSeen = false;
    outer: for await (const lines of readable(
      opts.lines ?? readCsvLines(opts.path),
      fileLabel,
      () => lastLineSeen,
    )) {
      for (const ln of lines) {
        lastLineSeen = ln.lineNo;
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
          if (ISO_PREFIX_RE.test(prefix) && prefix > runningMax && prefix >= floorIso && prefix <= ceilIso)
            runningMax = prefix;
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
        processLine(ln, true);
        lastLine = ln.lineNo;
        linesInBatch++;
        if (linesInBatch >= batchLines) await flush();
      }
    }
    if (!headerSeen)
      throw new IngestError('file_error', fileLabel, null, 'file', 'is empty (no header line)');
    await flush();
    if (inflight) await inflight;
    const r = await write.commit();
    rowsStored = r.stored;
    rowsChanged = r.changed;
    return summary();
  } catch (e) {
    const pending = inflight as Promise<void> | null;
    if (pending) await pending.catch(() => undefined);
    await write?.abort();
    return failure(e);
  }
}
