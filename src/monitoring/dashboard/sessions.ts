/**
 * The dashboard's sessions, from the store and Temporal: the running sessions (listed in Temporal's visibility
 * store, each asked for its status), the finished ones (session_reports, with the post-market day report when
 * there is one), their fills (the audit log's order.filled / order.partially_filled rows), the model that decides
 * (a model id, or the strategy's indicators when none) with its latest predictions (the predictions table).
 *
 * P&L is taken against the broker's account as the session last read it (a running session: at its last
 * decision; a finished one: at the end): realised = average cost over the fills that account reflects, unrealised
 * = its open quantities × (the broker's last price − their average cost), and costs = what the fill prices do not
 * explain of equity − start equity (commissions, regulatory and borrow fees). Realised + unrealised − costs =
 * equity − start equity. The fills the account reflects are the longest run of them (cut between venue instants)
 * whose open quantities equal the account's; fills after it (the last decision's orders) count from the next read.
 */
import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import {
  SESSION_WORKFLOW_TYPE,
  statusQuery,
  type DayReport,
  type SessionState,
  type SessionStatus,
} from '../../../contracts/session';
import { applyFillToPosition, flatPosition, type Position } from '../../model/position';

/** One fill: a change of an order's filled quantity, at the price that change was filled at. */
export interface SessionFill {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly price: number;
  /** venue time of the fill, epoch ms */
  readonly at: number;
}

/** An audit row of an observed fill (order.filled / order.partially_filled): cumulative quantity and average. */
export interface AuditFillRow {
  /** the row's id: audit order where venue times tie */
  readonly id: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly filledQty: number;
  readonly avgPrice: number | null;
  readonly venueTime: number;
}

/**
 * Where an order stands in its session's sequence: a session's client order id is `<session>:<decision ts>:<symbol>:<n>`
 * (n counts the decision's orders in the kernel's order: a flip's exit before its entry). Other ids sort last.
 */
function orderSequence(clientOrderId: string): [number, number] {
  const parts = clientOrderId.split(':');
  const ts = Number(parts[1]);
  const n = Number(parts[parts.length - 1]);
  return parts.length >= 4 && Number.isFinite(ts) && Number.isFinite(n) ? [ts, n] : [Infinity, Infinity];
}

/**
 * The fills behind audit rows: each row holds an order's cumulative filled quantity and average price, so a fill
 * is the increase over the order's previous row, priced at what the increase cost (avg₂·q₂ − avg₁·q₁)/(q₂ − q₁).
 * Rows without a price are skipped (the venue did not report one). Ordered by venue time; fills at the same
 * instant in the order the session decided them (a flip's exit before its entry: the average cost depends on
 * it), then audit order.
 */
export function fillsFromAudit(rows: readonly AuditFillRow[]): SessionFill[] {
  const byOrder = new Map<string, AuditFillRow[]>();
  for (const r of rows) {
    if (r.avgPrice === null || !(r.filledQty > 0)) continue;
    const list = byOrder.get(r.clientOrderId) ?? [];
    list.push(r);
    byOrder.set(r.clientOrderId, list);
  }
  const fills: Array<SessionFill & { id: number }> = [];
  for (const list of byOrder.values()) {
    list.sort((a, b) => a.filledQty - b.filledQty || a.id - b.id);
    let q = 0;
    let cost = 0;
    for (const r of list) {
      if (r.filledQty <= q + 1e-12) continue;
      const total = r.avgPrice! * r.filledQty;
      const qty = r.filledQty - q;
      fills.push({
        id: r.id,
        clientOrderId: r.clientOrderId,
        symbol: r.symbol,
        side: r.side,
        qty,
        price: (total - cost) / qty,
        at: r.venueTime,
      });
      q = r.filledQty;
      cost = total;
    }
  }
  const seq = new Map(fills.map((f) => [f.clientOrderId, orderSequence(f.clientOrderId)]));
  fills.sort((a, b) => {
    const [ta, na] = seq.get(a.clientOrderId)!;
    const [tb, nb] = seq.get(b.clientOrderId)!;
    return (
      a.at - b.at || (ta === tb ? 0 : ta < tb ? -1 : 1) || (na === nb ? 0 : na < nb ? -1 : 1) || a.id - b.id
    );
  });
  return fills.map(({ id: _id, ...f }) => f);
}

export interface SymbolPnl {
  readonly symbol: string;
  /** signed quantity the fills leave open */
  readonly qty: number;
  /** average cost of the open quantity (0 when flat) */
  readonly avgPrice: number;
  /** the price the open quantity is marked at (null when flat and never marked) */
  readonly mark: number | null;
  readonly realized: number;
  readonly unrealized: number;
}

export interface FillLedger {
  readonly realized: number;
  readonly unrealized: number;
  readonly bySymbol: readonly SymbolPnl[];
}

/**
 * Average-cost ledger over the fills, starting flat: realised P&L of each closing fill, and the open quantity
 * marked at `marks` (a symbol without a mark is marked at its last fill price).
 */
export function fillLedger(
  fills: readonly SessionFill[],
  marks: Readonly<Record<string, number>> = {},
): FillLedger {
  const positions = new Map<string, Position>();
  for (const f of fills) {
    const p = positions.get(f.symbol) ?? flatPosition(f.symbol);
    positions.set(f.symbol, applyFillToPosition(p, f.side, f.qty, f.price, f.at).position);
  }
  const bySymbol = [...positions.values()]
    .map((p) => {
      const mark = marks[p.symbol] ?? p.lastPrice;
      return {
        symbol: p.symbol,
        qty: p.qty,
        avgPrice: p.avgPrice,
        mark,
        realized: p.realizedPnl,
        unrealized: p.qty === 0 ? 0 : (mark - p.avgPrice) * p.qty,
      };
    })
    .sort((a, b) => a.symbol.localeCompare(b.symbol));
  return {
    realized: bySymbol.reduce((s, x) => s + x.realized, 0),
    unrealized: bySymbol.reduce((s, x) => s + x.unrealized, 0),
    bySymbol,
  };
}

export interface ModelPanel {
  /** the model that decides; null: the strategy's indicators (no model) */
  readonly modelId: string | null;
  readonly deciding: string;
  /** predictions the session journaled (traded model and shadows) */
  readonly predictions: number;
  /** mean confidence of the traded model's predictions today */
  readonly meanConfidence: number | null;
  /** decision time of the latest prediction, epoch ms */
  readonly lastTs: number | null;
  /** the latest decision's predictions, per model and symbol */
  readonly latest: ReadonlyArray<{
    readonly modelId: string;
    readonly role: 'traded' | 'shadow';
    readonly symbol: string;
    readonly score: number;
    readonly confidence: number;
  }>;
  readonly shadows: readonly string[];
}

/**
 * How many of `fills` (in order) the broker's positions reflect: the longest prefix, cut between venue instants,
 * whose open quantities equal `positions`; null when none does (the account holds what these fills did not open).
 */
export function fillsInSnapshot(
  fills: readonly SessionFill[],
  positions: ReadonlyArray<{ readonly symbol: string; readonly qty: number }>,
): number | null {
  const want = new Map(positions.filter((p) => p.qty !== 0).map((p) => [p.symbol, p.qty]));
  const have = new Map<string, number>();
  const matches = () => {
    for (const [sym, q] of have) if (Math.abs(q - (want.get(sym) ?? 0)) > 1e-9) return false;
    for (const [sym, q] of want) if (Math.abs(q - (have.get(sym) ?? 0)) > 1e-9) return false;
    return true;
  };
  let best = matches() ? 0 : null;
  for (let i = 0; i < fills.length; i++) {
    const f = fills[i]!;
    have.set(f.symbol, (have.get(f.symbol) ?? 0) + (f.side === 'buy' ? f.qty : -f.qty));
    const cut = i + 1 === fills.length || fills[i + 1]!.at !== f.at;
    if (cut && matches()) best = i + 1;
  }
  return best;
}

export interface SessionView {
  readonly sessionId: string;
  readonly workflowId: string | null;
  readonly status: 'running' | 'finished';
  readonly account: string;
  readonly mode: string;
  readonly date: string;
  readonly riskState: string;
  readonly riskReason: string;
  readonly paused: boolean;
  readonly killed: boolean;
  /** the operator's daily loss limit (fraction of the day's start equity) and gross exposure cap */
  readonly dailyLossLimit: number | null;
  readonly maxGrossExposure: number | null;
  readonly startEquity: number;
  /** the broker's equity as the session last read it: at its last decision (running), at the end (finished) */
  readonly equity: number;
  /** close of the last bar the session decided on, epoch ms */
  readonly lastDecisionTs: number | null;
  /** gross of costs, over the fills the account reflects (average cost) */
  readonly realized: number;
  /** the account's open quantities × (broker's last price − average cost of the fills) */
  readonly unrealized: number;
  /** commissions and fees: realised + unrealised − (equity − start); null when the fills do not explain the account */
  readonly costs: number | null;
  /** equity − start equity */
  readonly pnl: number;
  /**
   * whether the fills explain the account: its positions are theirs and the costs they leave are costs (not a
   * gain: fills missing from the audit log would show as one); realised + unrealised − costs = pnl then holds
   */
  readonly addsUp: boolean;
  /** fills after the account read (the last decision's orders): in the figures from the next decision on */
  readonly fillsAfterAccount: number;
  /** loss against the day's start equity as a fraction of it (0 when up) */
  readonly dailyLossRatio: number;
  /** |marked position value| / equity */
  readonly grossExposureRatio: number;
  readonly positions: readonly SymbolPnl[];
  readonly fills: {
    readonly count: number;
    readonly shares: number;
    readonly notional: number;
    /** the latest fills, newest first */
    readonly recent: readonly SessionFill[];
  };
  readonly ordersPlaced: number;
  readonly denied: number;
  readonly model: ModelPanel;
  /** the post-market routine's report of the day, when it ran */
  readonly dayReport: {
    readonly slippageAvgBps: number | null;
    readonly flat: boolean | null;
    readonly ordersFilled: number;
  } | null;
  /** finished: when the report was recorded, epoch ms */
  readonly recordedAt: number | null;
}

export interface SessionBoard {
  /** where the sessions were read from, and what could not be read */
  readonly sources: ReadonlyArray<{ readonly source: string; readonly ok: boolean; readonly error?: string }>;
  readonly running: readonly SessionView[];
  readonly finished: readonly SessionView[];
}

export const EMPTY_SESSION_BOARD: SessionBoard = { sources: [], running: [], finished: [] };

export interface SessionStore {
  readonly pool: Pool;
  /** Temporal: running sessions are listed and asked for their status; without it only finished ones show */
  readonly client?: Client;
  /** finished sessions shown (newest first), default 10 */
  readonly finishedLimit?: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export interface SessionCore {
  readonly sessionId: string;
  readonly workflowId: string | null;
  readonly status: 'running' | 'finished';
  readonly account: string;
  readonly mode: string;
  readonly date: string;
  readonly modelId: string | null;
  readonly state: SessionState;
  readonly startEquity: number;
  readonly dayReport: DayReport | null;
  readonly recordedAt: number | null;
}

/** Reads the running and finished sessions; a source that fails is named in `sources`, never thrown. */
export async function readSessionBoard(store: SessionStore): Promise<SessionBoard> {
  const sources: Array<{ source: string; ok: boolean; error?: string }> = [];
  let running: SessionCore[] = [];
  if (store.client) {
    try {
      running = await readRunningSessions(store.client);
      sources.push({ source: 'temporal', ok: true });
    } catch (err) {
      sources.push({ source: 'temporal', ok: false, error: (err as Error).message });
    }
  }
  let finished: SessionCore[] = [];
  try {
    finished = await readFinishedSessions(store.pool, store.finishedLimit ?? 10);
    const done = new Set(finished.map((f) => f.sessionId));
    // a session that has recorded its report is finished, whatever Temporal's list still says
    running = running.filter((r) => !done.has(r.sessionId));
    const all = [...running, ...finished];
    const [fills, models] = await Promise.all([
      readFills(
        store.pool,
        all.map((s) => s.sessionId),
      ),
      readModelPanels(store.pool, all),
    ]);
    sources.push({ source: 'postgres', ok: true });
    const view = (s: SessionCore) => sessionView(s, fills.get(s.sessionId) ?? [], models.get(s.sessionId)!);
    return { sources, running: running.map(view), finished: finished.map(view) };
  } catch (err) {
    sources.push({ source: 'postgres', ok: false, error: (err as Error).message });
    return { sources, running: [], finished: [] };
  }
}

/** Builds one session's view from its state, fills and model panel. Pure. */
export function sessionView(s: SessionCore, fills: readonly SessionFill[], model: ModelPanel): SessionView {
  const state = s.state;
  const account = state.account;
  const upTo = fillsInSnapshot(fills, account.positions);
  const marks = Object.fromEntries(account.positions.map((p) => [p.symbol, p.lastPrice]));
  const ledger = fillLedger(fills.slice(0, upTo ?? fills.length), marks);
  const realized = round2(ledger.realized);
  const unrealized = round2(ledger.unrealized);
  const equity = account.equity;
  const pnl = round2(equity - s.startEquity);
  const costs = upTo === null ? null : round2(realized + unrealized - pnl);
  const dayStart = state.start.dayStartEquity ?? s.startEquity;
  const gross = account.positions.reduce((a, p) => a + Math.abs(p.qty * p.lastPrice), 0);
  return {
    sessionId: s.sessionId,
    workflowId: s.workflowId,
    status: s.status,
    account: s.account,
    mode: s.mode,
    date: s.date,
    riskState: state.riskState,
    riskReason: state.riskReason,
    paused: state.paused,
    killed: state.killed,
    dailyLossLimit: state.limits.dailyLossLimit,
    maxGrossExposure: state.limits.maxGrossExposure,
    startEquity: s.startEquity,
    equity,
    lastDecisionTs: state.lastDecisionTs,
    realized,
    unrealized,
    costs,
    pnl,
    addsUp: costs !== null && costs >= -0.01,
    fillsAfterAccount: upTo === null ? 0 : fills.length - upTo,
    dailyLossRatio: dayStart > 0 ? Math.max(0, dayStart - equity) / dayStart : 0,
    grossExposureRatio: equity > 0 ? gross / equity : 0,
    positions: ledger.bySymbol.map((p) => ({
      ...p,
      realized: round2(p.realized),
      unrealized: round2(p.unrealized),
    })),
    fills: {
      count: fills.length,
      shares: fills.reduce((a, f) => a + f.qty, 0),
      notional: round2(fills.reduce((a, f) => a + f.qty * f.price, 0)),
      recent: fills.slice(-8).reverse(),
    },
    ordersPlaced: state.ordersPlaced,
    denied: state.deniedCount,
    model,
    dayReport: s.dayReport
      ? {
          slippageAvgBps: s.dayReport.slippage.avgBps,
          flat: s.dayReport.flat,
          ordersFilled: s.dayReport.orders.filled,
        }
      : null,
    recordedAt: s.recordedAt,
  };
}

/** Running trading sessions in Temporal's visibility store, each asked for its status (2 s each at most). */
async function readRunningSessions(client: Client, limit = 20): Promise<SessionCore[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`,
    pageSize: limit,
  })) {
    ids.push(w.workflowId);
    if (ids.length >= limit) break;
  }
  const statuses = await Promise.all(
    ids.map(async (workflowId) => {
      try {
        const status = await withTimeout(client.workflow.getHandle(workflowId).query(statusQuery), 2000);
        return { workflowId, status };
      } catch {
        return null; // no worker answers (or it just finished): not shown this time
      }
    }),
  );
  return statuses
    .filter((x): x is { workflowId: string; status: SessionStatus } => x !== null)
    .filter((x) => x.status.state.barTimes.length > 0) // still preparing: nothing to show yet
    .map(({ workflowId, status }) => ({
      sessionId: status.sessionId,
      workflowId,
      status: 'running' as const,
      account: status.account,
      mode: status.mode,
      date: status.date,
      modelId: status.modelId,
      state: status.state,
      startEquity: status.state.start.equity,
      dayReport: null,
      recordedAt: null,
    }))
    .sort((a, b) => a.sessionId.localeCompare(b.sessionId));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function readFinishedSessions(pool: Pool, limit: number): Promise<SessionCore[]> {
  const { rows } = await pool.query<{
    session_id: string;
    d: string;
    account: string;
    mode: string;
    state: SessionState;
    start_equity: number | null;
    recorded_at: Date;
    report: DayReport | null;
  }>(
    `select sr.session_id, to_char(sr.session_date, 'YYYY-MM-DD') as d, sr.account, sr.mode, sr.state,
            sr.start_equity, sr.recorded_at, dr.report
       from session_reports sr left join day_reports dr on dr.session_id = sr.session_id
      order by sr.recorded_at desc, sr.session_id limit $1`,
    [limit],
  );
  return rows.map((r) => ({
    sessionId: r.session_id,
    workflowId: null,
    status: 'finished' as const,
    account: r.account,
    mode: r.mode,
    date: r.d,
    modelId: null, // the predictions it journaled name its model (readModelPanels)
    state: r.state,
    startEquity: r.start_equity ?? r.state.start.equity,
    dayReport: r.report,
    recordedAt: r.recorded_at.getTime(),
  }));
}

/** The sessions' fills from the audit log (client order ids are `<session id>:…`). */
async function readFills(pool: Pool, sessionIds: readonly string[]): Promise<Map<string, SessionFill[]>> {
  const out = new Map<string, SessionFill[]>();
  if (!sessionIds.length) return out;
  const { rows } = await pool.query<{
    id: string;
    session_id: string;
    subject: string;
    details: {
      symbol: string;
      side: 'buy' | 'sell';
      filledQty: number;
      avgPrice?: number;
      venueTime?: string;
    };
    at: Date;
  }>(
    `select id, split_part(subject, ':', 1) as session_id, subject, details, at from audit_log
      where action in ('order.filled', 'order.partially_filled') and split_part(subject, ':', 1) = any($1::text[])
      order by id`,
    [sessionIds],
  );
  const bySession = new Map<string, AuditFillRow[]>();
  for (const r of rows) {
    const list = bySession.get(r.session_id) ?? [];
    list.push({
      id: Number(r.id),
      clientOrderId: r.subject,
      symbol: r.details.symbol,
      side: r.details.side,
      filledQty: Number(r.details.filledQty),
      avgPrice: r.details.avgPrice === undefined ? null : Number(r.details.avgPrice),
      venueTime: r.details.venueTime ? Date.parse(r.details.venueTime) : r.at.getTime(),
    });
    bySession.set(r.session_id, list);
  }
  for (const [id, list] of bySession) out.set(id, fillsFromAudit(list));
  return out;
}

/** The model each session decides with, and its journaled predictions (source = session id). */
async function readModelPanels(
  pool: Pool,
  sessions: readonly SessionCore[],
): Promise<Map<string, ModelPanel>> {
  const ids = sessions.map((s) => s.sessionId);
  const [agg, latest] = ids.length
    ? await Promise.all([
        pool.query<{
          source: string;
          model_id: string;
          role: 'traded' | 'shadow';
          n: string;
          conf: number;
          ts: string;
        }>(
          `select source, model_id, role, count(*) as n, avg(confidence) as conf, max(ts) as ts from predictions
            where source = any($1::text[]) group by source, model_id, role`,
          [ids],
        ),
        pool.query<{
          source: string;
          model_id: string;
          role: 'traded' | 'shadow';
          symbol: string;
          score: number;
          confidence: number;
        }>(
          `select p.source, p.model_id, p.role, p.symbol, p.score, p.confidence from predictions p
             join (select source, max(ts) as ts from predictions where source = any($1::text[]) group by source) m
               on m.source = p.source and m.ts = p.ts
            order by p.source, p.role desc, p.model_id, p.symbol`,
          [ids],
        ),
      ])
    : [{ rows: [] }, { rows: [] }];
  const out = new Map<string, ModelPanel>();
  for (const s of sessions) {
    const mine = agg.rows.filter((r) => r.source === s.sessionId);
    const traded = mine.find((r) => r.role === 'traded');
    const modelId = s.modelId ?? traded?.model_id ?? null;
    const tradedRow = mine.find((r) => r.role === 'traded' && r.model_id === modelId);
    out.set(s.sessionId, {
      modelId,
      deciding: modelId
        ? `model ${modelId}`
        : 'indicators (no model: the strategy decides on its indicators)',
      predictions: mine.reduce((a, r) => a + Number(r.n), 0),
      meanConfidence: tradedRow ? tradedRow.conf : null,
      lastTs: mine.length ? Math.max(...mine.map((r) => Number(r.ts))) : null,
      latest: latest.rows
        .filter((r) => r.source === s.sessionId)
        .map((r) => ({
          modelId: r.model_id,
          role: r.role,
          symbol: r.symbol,
          score: r.score,
          confidence: r.confidence,
        })),
      shadows: [...new Set(mine.filter((r) => r.role === 'shadow').map((r) => r.model_id))].sort(),
    });
  }
  return out;
}
