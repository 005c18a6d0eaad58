import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs every Grafana panel query of the provisioned dashboards against a Prometheus, the way Grafana would over
 * the dashboard's time range, and reports the panels that show no data. A panel has data when at least one of
 * its queries returns a series with a finite value; a query with no data in a panel that has some is listed too.
 */

interface DashboardJson {
  readonly uid: string;
  readonly title: string;
  readonly panels?: ReadonlyArray<PanelJson>;
}
interface PanelJson {
  readonly type: string;
  readonly title?: string;
  readonly panels?: ReadonlyArray<PanelJson>;
  readonly targets?: ReadonlyArray<{
    readonly refId?: string;
    readonly expr?: string;
    readonly instant?: boolean;
  }>;
}

export interface QueryCheck {
  readonly refId: string;
  /** The query as sent (Grafana variables substituted). */
  readonly expr: string;
  /** Series with at least one finite value. */
  readonly series: number;
  readonly error?: string;
}

export interface PanelCheck {
  readonly dashboard: string;
  readonly panel: string;
  readonly hasData: boolean;
  readonly queries: readonly QueryCheck[];
}

export interface PanelCheckReport {
  readonly prometheus: string;
  readonly from: string;
  readonly to: string;
  readonly panels: readonly PanelCheck[];
  readonly emptyPanels: number;
}

export interface PanelCheckOptions {
  readonly prometheusUrl: string;
  readonly dashboards: ReadonlyArray<DashboardJson>;
  /** End of the window (default now). */
  readonly endMs?: number;
  /** Window length, like the dashboard's time range (default 6 h). */
  readonly rangeMs?: number;
  /** Prometheus' scrape interval, for $__rate_interval (default 15 s). */
  readonly scrapeIntervalS?: number;
  /** Points per range query, as a panel about 1000 px wide asks for (default 250). */
  readonly points?: number;
}

/** Reads the dashboards Grafana is provisioned with (deploy/grafana/dashboards/*.json). */
export function readDashboards(dir: string): DashboardJson[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as DashboardJson);
}

/**
 * Substitutes Grafana's built-in and template variables the way Grafana does for "All": template variables
 * become `.*`; $__range, $__interval and $__rate_interval become durations in seconds.
 */
export function expandPanelQuery(
  expr: string,
  v: { rangeS: number; stepS: number; rateIntervalS: number },
): string {
  return expr
    .replace(/\$__rate_interval\b/g, `${v.rateIntervalS}s`)
    .replace(/\$__range\b/g, `${v.rangeS}s`)
    .replace(/\$__interval\b/g, `${v.stepS}s`)
    .replace(/\$\{\w+\}|\$\w+/g, '.*');
}

type PromResult =
  | { resultType: 'vector'; result: Array<{ value: [number, string] }> }
  | { resultType: 'matrix'; result: Array<{ values: Array<[number, string]> }> }
  | { resultType: 'scalar'; result: [number, string] };

async function promQuery(base: string, path: string, params: Record<string, string>): Promise<PromResult> {
  const url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  const r = await fetch(url, {
    method: 'POST',
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await r.json().catch(() => ({ status: 'error', error: `HTTP ${r.status}` }))) as {
    status: string;
    data?: PromResult;
    error?: string;
  };
  if (body.status !== 'success' || !body.data) throw new Error(body.error ?? `HTTP ${r.status}`);
  return body.data;
}

const finite = (v: string) => Number.isFinite(Number(v));

function seriesWithData(d: PromResult): number {
  if (d.resultType === 'scalar') return finite(d.result[1]) ? 1 : 0;
  if (d.resultType === 'vector') return d.result.filter((s) => finite(s.value[1])).length;
  return d.result.filter((s) => s.values.some(([, v]) => finite(v))).length;
}

export async function checkPanels(opts: PanelCheckOptions): Promise<PanelCheckReport> {
  const endMs = opts.endMs ?? Date.now();
  const rangeMs = opts.rangeMs ?? 6 * 3600_000;
  const scrapeS = opts.scrapeIntervalS ?? 15;
  const rangeS = Math.max(1, Math.round(rangeMs / 1000));
  const stepS = Math.max(1, Math.ceil(rangeS / (opts.points ?? 250)));
  // Grafana's $__rate_interval: max($__interval + scrape interval, 4 × scrape interval).
  const rateIntervalS = Math.max(stepS + scrapeS, 4 * scrapeS);
  const vars = { rangeS, stepS, rateIntervalS };
  const start = String((endMs - rangeMs) / 1000);
  const end = String(endMs / 1000);

  const panels: PanelCheck[] = [];
  const visit = async (d: DashboardJson, list: ReadonlyArray<PanelJson> | undefined) => {
    for (const p of list ?? []) {
      if (p.panels?.length) await visit(d, p.panels);
      const targets = (p.targets ?? []).filter((t) => t.expr);
      if (!targets.length) continue;
      const queries: QueryCheck[] = [];
      for (const [i, t] of targets.entries()) {
        const expr = expandPanelQuery(t.expr!, vars);
        const refId = t.refId ?? String.fromCharCode(65 + i);
        try {
          const data = t.instant
            ? await promQuery(opts.prometheusUrl, 'api/v1/query', { query: expr, time: end })
            : await promQuery(opts.prometheusUrl, 'api/v1/query_range', {
                query: expr,
                start,
                end,
                step: String(stepS),
              });
          queries.push({ refId, expr, series: seriesWithData(data) });
        } catch (err) {
          queries.push({ refId, expr, series: 0, error: (err as Error).message });
        }
      }
      panels.push({
        dashboard: d.title,
        panel: p.title ?? '(untitled)',
        hasData: queries.some((x) => x.series > 0),
        queries,
      });
    }
  };
  for (const d of opts.dashboards) await visit(d, d.panels);
  return {
    prometheus: opts.prometheusUrl,
    from: new Date(endMs - rangeMs).toISOString(),
    to: new Date(endMs).toISOString(),
    panels,
    emptyPanels: panels.filter((p) => !p.hasData).length,
  };
}

/** The report as text: one line per panel, then the queries without data, then the count. */
export function formatPanelReport(r: PanelCheckReport): string {
  const lines = [`Panel queries against ${r.prometheus}, ${r.from} to ${r.to}`, ''];
  for (const p of r.panels) {
    const n = p.queries.reduce((a, q) => a + q.series, 0);
    lines.push(
      `${p.hasData ? 'ok   ' : 'EMPTY'}  ${p.dashboard} / ${p.panel}${p.hasData ? `  (${n} series)` : ''}`,
    );
  }
  const partial = r.panels.filter((p) => p.hasData && p.queries.some((q) => q.series === 0 && !q.error));
  if (partial.length) {
    lines.push('', 'Queries without data in panels that have data:');
    for (const p of partial)
      for (const q of p.queries.filter((x) => x.series === 0 && !x.error))
        lines.push(`  ${p.dashboard} / ${p.panel} [${q.refId}]: ${q.expr}`);
  }
  const errors = r.panels.flatMap((p) => p.queries.filter((q) => q.error).map((q) => ({ p, q })));
  if (errors.length) {
    lines.push('', 'Queries Prometheus refused:');
    for (const { p, q } of errors) lines.push(`  ${p.dashboard} / ${p.panel} [${q.refId}]: ${q.error}`);
  }
  lines.push(
    '',
    `${r.panels.length} panels, ${r.panels.length - r.emptyPanels} with data, ${r.emptyPanels} empty`,
  );
  return `${lines.join('\n')}\n`;
}
