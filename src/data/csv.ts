/**
 * CSV / CSV.gz reading in the ../shared/data format, streaming: a file is read chunk by chunk and never
 * held in memory. Parsing is strict; a malformed field is reported with file:line and the field name,
 * and the row is not stored.
 *
 *   bars:   ts,open,high,low,close,volume      (ts ISO-8601 UTC with Z, bar start)
 *   quotes: ts,bid,ask,bid_size,ask_size       (an empty bid or ask is a one-sided quote)
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { basename, dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { ValidationError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';

export const BAR_HEADER = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
export const QUOTE_HEADER = ['ts', 'bid', 'ask', 'bid_size', 'ask_size'] as const;

export interface CsvLine {
  readonly lineNo: number;
  readonly text: string;
}

/**
 * Yields the lines of a (gzip) file in batches, 1-based line numbers. A trailing '\r' is dropped, a
 * UTF-8 BOM on the first line is dropped.
 */
export async function* readCsvLines(path: string): AsyncGenerator<CsvLine[]> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => stream.destroy(e));
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const out: CsvLine[] = [];
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      let line = text.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lineNo++;
      if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      out.push({ lineNo, text: line });
      start = nl + 1;
    }
    rest = text.slice(start);
    if (out.length) yield out;
  }
  const tail = rest + decoder.end();
  if (tail.length > 0) {
    lineNo++;
    yield [{ lineNo, text: tail.endsWith('\r') ? tail.slice(0, -1) : tail }];
  }
}

const NUM_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Strict ISO-8601 UTC 'YYYY-MM-DDTHH:MM:SSZ' → epoch ms, or an error message. */
export function parseIsoTs(s: string): number | string {
  // Hand-rolled: this runs once per row of multi-million-row files, so no regex match arrays or Dates.
  if (
    s.length !== 20 ||
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 84 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58 ||
    s.charCodeAt(19) !== 90
  ) {
    return `"${clip(s)}" is not an ISO-8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)`;
  }
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const se = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
    return `"${clip(s)}" is not an ISO-8601 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)`;
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || se > 59) {
    return `"${clip(s)}" is not a real date/time`;
  }
  return Date.UTC(y, mo - 1, d, h, mi, se);
}

/** Decimal digits s[from, from+n) as a number, or -1 when any is not a digit. */
function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Strict decimal → number, or an error message. Empty is reported separately by the caller. */
export function parseDecimal(s: string): number | string {
  if (!NUM_RE.test(s)) return `"${clip(s)}" is not a decimal number`;
  const v = Number(s);
  if (!Number.isFinite(v)) return `"${clip(s)}" is out of range`;
  // '1e-400' reads as 0 here but PostgreSQL refuses it (out of range for double precision).
  if (v === 0 && /[1-9]/.test(s.split(/[eE]/, 1)[0]!))
    return `"${clip(s)}" is out of range (underflows to 0)`;
  return v;
}

function clip(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
  readonly value: string;
}

export interface ParsedBarRow {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** The fields as written, so storage keeps the exact decimal text. */
  readonly fields: readonly string[];
}

export interface ParsedQuoteRow {
  readonly ts: number;
  readonly bid: number;
  readonly ask: number;
  readonly bidSize: number;
  readonly askSize: number;
  readonly fields: readonly string[];
}

/**
 * Checks a header line against the expected columns; throws a ValidationError naming the column. The
 * message never quotes the line: it can travel into workflow histories, and a file's content stays out
 * of them.
 */
export function checkHeader(text: string, expected: readonly string[], location: string): void {
  const cols = text.split(',').map((c) => c.trim().toLowerCase());
  for (let i = 0; i < expected.length; i++) {
    if (cols[i] !== expected[i]) {
      throw new ValidationError(
        `header column ${i + 1}`,
        `expected "${expected[i]}" (the header must be ${expected.join(',')}); is this a bars/quotes CSV?`,
        location,
      );
    }
  }
  if (cols.length !== expected.length)
    throw new ValidationError(
      'header',
      `expected ${expected.length} columns, found ${cols.length}`,
      location,
    );
}

/** Parses one bar line; returns the row or the first problem found (field named). */
export function parseBarLine(text: string): ParsedBarRow | FieldProblem {
  const f = text.split(',');
  if (f.length !== 6)
    return { field: 'row', problem: `expected 6 columns, found ${f.length}`, value: clip(text) };
  const ts = parseIsoTs(f[0]!);
  if (typeof ts === 'string') return { field: 'ts', problem: ts, value: clip(f[0]!) };
  const nums: number[] = [];
  for (let i = 1; i < 6; i++) {
    const s = f[i]!;
    if (s === '') return { field: BAR_HEADER[i]!, problem: 'empty', value: '' };
    const v = parseDecimal(s);
    if (typeof v === 'string') return { field: BAR_HEADER[i]!, problem: v, value: clip(s) };
    nums.push(v);
  }
  return { ts, open: nums[0]!, high: nums[1]!, low: nums[2]!, close: nums[3]!, volume: nums[4]!, fields: f };
}

/** Parses one quote line; an empty bid/ask becomes NaN (one-sided), empty sizes are a problem. */
export function parseQuoteLine(text: string): ParsedQuoteRow | FieldProblem {
  const f = text.split(',');
  if (f.length !== 5)
    return { field: 'row', problem: `expected 5 columns, found ${f.length}`, value: clip(text) };
  const ts = parseIsoTs(f[0]!);
  if (typeof ts === 'string') return { field: 'ts', problem: ts, value: clip(f[0]!) };
  const nums: number[] = [];
  for (let i = 1; i < 5; i++) {
    const s = f[i]!;
    if (s === '') {
      if (i <= 2) {
        nums.push(NaN);
        continue;
      }
      return { field: QUOTE_HEADER[i]!, problem: 'empty', value: '' };
    }
    const v = parseDecimal(s);
    if (typeof v === 'string') return { field: QUOTE_HEADER[i]!, problem: v, value: clip(s) };
    nums.push(v);
  }
  return { ts, bid: nums[0]!, ask: nums[1]!, bidSize: nums[2]!, askSize: nums[3]!, fields: f };
}

export function isProblem<T extends object>(r: T | FieldProblem): r is FieldProblem {
  return 'problem' in r;
}

/** What a file in the shared-data layout holds: <source>/<timeframe-dir>/<SYMBOL>.csv(.gz). */
export interface SharedDataFile {
  readonly path: string;
  readonly dataset: string;
  readonly symbol: string;
  readonly kind: 'bars' | 'quotes';
  readonly timeframe: Timeframe | null;
}

const TF_DIRS: Record<string, Timeframe> = {
  '1min': '1m',
  '5min': '5m',
  '15min': '15m',
  '1hour': '1h',
  '1day': '1d',
};

export function describeSharedDataFile(path: string): SharedDataFile {
  const file = basename(path);
  const tfDir = basename(dirname(path));
  const dataset = basename(dirname(dirname(path)));
  const symbol = file.replace(/\.csv(\.gz)?$/, '');
  if (tfDir === '1min_quote') return { path, dataset, symbol, kind: 'quotes', timeframe: null };
  const timeframe = TF_DIRS[tfDir];
  if (!timeframe)
    throw new ValidationError(
      'path',
      `"${tfDir}" is not a known timeframe folder (${Object.keys(TF_DIRS).join(', ')}, 1min_quote)`,
      path,
    );
  return { path, dataset, symbol, kind: 'bars', timeframe };
}

/** The folder name for a timeframe in the shared-data layout. */
export function timeframeDir(tf: Timeframe): string {
  return Object.entries(TF_DIRS).find(([, v]) => v === tf)![0];
}
