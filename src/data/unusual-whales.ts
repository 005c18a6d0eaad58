/**
 * Unusual Whales options flow (REST): GET /api/option-trades/flow-alerts with a Bearer token, paged
 * backwards in time with `older_than` until the requested start. Typed rows for the options_flow table.
 */
import { PermanentError } from '../model/errors';
import type { OptionsFlowRow } from '../storage/market-data-repo';
import { field, getJson, isArr, isObj, type HttpOptions } from './http';

export interface UnusualWhalesOptions extends Omit<HttpOptions, 'label' | 'headers'> {
  readonly token: string;
  /** Default https://api.unusualwhales.com */
  readonly baseUrl?: string;
  /** Alerts per page (default 200). */
  readonly limit?: number;
}

export interface FlowPage {
  readonly rows: OptionsFlowRow[];
  readonly location: string;
  readonly problems: Array<{ index: number; field: string; problem: string }>;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

export class UnusualWhalesClient {
  private readonly base: string;
  constructor(private readonly opts: UnusualWhalesOptions) {
    this.base = (opts.baseUrl ?? 'https://api.unusualwhales.com').replace(/\/+$/, '');
  }

  /** Flow alerts for a ticker in [fromMs, toMs), newest page first. */
  async *flowAlerts(
    ticker: string,
    fromMs: number,
    toMs: number,
    signal?: AbortSignal,
  ): AsyncIterable<FlowPage> {
    const limit = this.opts.limit ?? 200;
    let olderThan = toMs;
    for (let page = 1; ; page++) {
      const label = `unusual-whales flow-alerts ${ticker} page ${page}`;
      const u = new URL('/api/option-trades/flow-alerts', this.base);
      u.searchParams.set('ticker_symbol', ticker);
      u.searchParams.set('limit', String(limit));
      u.searchParams.set('older_than', new Date(olderThan).toISOString());
      u.searchParams.set('newer_than', new Date(fromMs).toISOString());
      const body = await getJson(u.toString(), {
        ...this.opts,
        signal,
        label,
        headers: { authorization: `Bearer ${this.opts.token}` },
      });
      if (!isObj(body)) throw new PermanentError(`${label}: malformed body: not a JSON object`);
      const data = field(body, 'data', isArr, label);
      const rows: OptionsFlowRow[] = [];
      const problems: FlowPage['problems'] = [];
      let oldest = olderThan;
      data.forEach((r, index) => {
        if (!isObj(r)) return problems.push({ index, field: 'record', problem: 'not an object' });
        const ts = typeof r.created_at === 'string' ? Date.parse(r.created_at) : NaN;
        if (typeof r.id !== 'string' || r.id === '')
          return problems.push({ index, field: 'id', problem: 'missing' });
        if (Number.isNaN(ts))
          return problems.push({ index, field: 'created_at', problem: 'missing or not a timestamp' });
        if (ts < oldest) oldest = ts;
        if (ts < fromMs || ts >= toMs) return;
        rows.push({
          id: r.id,
          symbol: typeof r.ticker === 'string' ? r.ticker : ticker,
          ts,
          optionSymbol: typeof r.option_chain === 'string' ? r.option_chain : undefined,
          side: typeof r.side === 'string' ? r.side : undefined,
          putCall: r.type === 'call' || r.type === 'put' ? r.type : undefined,
          strike: num(r.strike),
          expiry: typeof r.expiry === 'string' ? r.expiry : undefined,
          premium: num(r.total_premium),
          size: num(r.total_size),
          underlyingPrice: num(r.underlying_price),
          payload: r,
        });
        return undefined;
      });
      yield { rows, location: label, problems };
      // A short page, or no progress backwards in time, is the end.
      if (data.length < limit || oldest >= olderThan || oldest <= fromMs) return;
      olderThan = oldest;
    }
  }
}
