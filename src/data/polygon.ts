/**
 * Polygon.io aggregates (REST v2): GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to},
 * followed through `next_url` pages. Typed, with the shared retry/timeout policy of ./http.
 */
import type { Bar } from '../model/bar';
import { PermanentError } from '../model/errors';
import type { Timeframe } from '../model/timeframe';
import { dateLabelMs, nyDate } from '../market/calendar';
import { field, getJson, isArr, isNum, isObj, type HttpOptions } from './http';
import type { BarPage, BarRequest, BarSource } from './source';

export interface PolygonOptions extends Omit<HttpOptions, 'label' | 'headers'> {
  readonly apiKey: string;
  /** Default https://api.polygon.io */
  readonly baseUrl?: string;
  readonly adjusted?: boolean;
  /** Results per page (max 50,000). */
  readonly limit?: number;
}

/** One aggregate as Polygon documents it. */
export interface PolygonAgg {
  readonly t: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly v: number;
  readonly vw?: number;
  readonly n?: number;
}

const SPAN: Record<Timeframe, [number, string]> = {
  '1m': [1, 'minute'],
  '5m': [5, 'minute'],
  '15m': [15, 'minute'],
  '1h': [1, 'hour'],
  '1d': [1, 'day'],
};

export class PolygonClient implements BarSource {
  readonly name = 'polygon';
  readonly synthetic = false;
  private readonly base: string;

  constructor(private readonly opts: PolygonOptions) {
    this.base = (opts.baseUrl ?? 'https://api.polygon.io').replace(/\/+$/, '');
  }

  private withKey(url: string): string {
    const u = new URL(url, this.base);
    u.searchParams.set('apiKey', this.opts.apiKey);
    return u.toString();
  }

  async *fetchBars(req: BarRequest, signal?: AbortSignal): AsyncIterable<BarPage> {
    const [mult, span] = SPAN[req.timeframe];
    // Polygon takes ms timestamps for from/to; `to` is inclusive, so stop one ms before our exclusive end.
    let url: string | undefined = this.withKey(
      `/v2/aggs/ticker/${encodeURIComponent(req.symbol)}/range/${mult}/${span}/${req.fromMs}/${req.toMs - 1}?adjusted=${this.opts.adjusted ?? true}&sort=asc&limit=${this.opts.limit ?? 50_000}`,
    );
    let page = 0;
    while (url) {
      page++;
      const label = `polygon aggs ${req.symbol} ${req.timeframe} page ${page}`;
      const body = await getJson(url, { ...this.opts, signal, label });
      if (!isObj(body)) throw new PermanentError(`${label}: malformed body: not a JSON object`);
      const results = body.results === undefined ? [] : field(body, 'results', isArr, label);
      const bars: Bar[] = [];
      const problems: Array<{ index: number; field: string; problem: string; value: string }> = [];
      results.forEach((r, index) => {
        const bad = (['t', 'o', 'h', 'l', 'c', 'v'] as const).find((k) => !isObj(r) || !isNum(r[k]));
        if (bad) {
          problems.push({
            index,
            field: bad,
            problem: 'missing or not a finite number',
            value: JSON.stringify(isObj(r) ? r[bad] : r)?.slice(0, 40) ?? 'undefined',
          });
          return;
        }
        const a = r as unknown as PolygonAgg;
        // Daily aggregates start at New York midnight; store them under their date label.
        const ts = req.timeframe === '1d' ? dateLabelMs(nyDate(a.t)) : a.t;
        bars.push({
          symbol: req.symbol,
          timeframe: req.timeframe,
          ts,
          open: a.o,
          high: a.h,
          low: a.l,
          close: a.c,
          volume: a.v,
          ...(isNum(a.vw) ? { vwap: a.vw } : {}),
          ...(isNum(a.n) ? { tradeCount: a.n } : {}),
        });
      });
      yield { bars, location: label, problems };
      const next = body.next_url;
      url = typeof next === 'string' && next.length > 0 ? this.withKey(next) : undefined;
    }
  }
}
