/** Execution algorithms for orders too large to send at once: DTOs for the child workflow. Plain JSON. */
export type ExecAlgo = 'twap' | 'vwap';

export interface ExecAlgoInput {
  readonly sessionId: string;
  /** epoch ms the parent decision was made; part of every child client order id */
  readonly decidedAt: number;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly algo: ExecAlgo;
  readonly slices: number;
  readonly intervalMs: number;
  /** VWAP: relative volume per slice (from history); ignored by TWAP */
  readonly volumeCurve?: readonly number[];
  /** decision-time price: the benchmark for slippage and implementation shortfall */
  readonly arrivalPrice: number;
  readonly spreadBps: number;
  readonly urgency: 'low' | 'normal' | 'high';
  readonly taskQueues?: { readonly io?: string; readonly execution?: string };
  /** the approved order's id when a session started it: the algorithm signals the session when done */
  readonly parentOrderId?: string;
  /** activity start-to-close timeout, ms (default 30 s) */
  readonly activityTimeoutMs?: number;
}

export interface ChildFill {
  readonly clientOrderId: string;
  readonly qty: number;
  readonly filledQty: number;
  readonly avgPrice: number | null;
  readonly status: string;
}

export interface ExecutionQuality {
  readonly filledQty: number;
  readonly avgPrice: number | null;
  /** signed, positive = worse than arrival for the side */
  readonly slippageBps: number | null;
  /** dollars lost against arrival on the filled part plus the opportunity cost of the unfilled part at the last price */
  readonly implementationShortfall: number | null;
}

export interface ExecAlgoResult extends ExecutionQuality {
  readonly children: readonly ChildFill[];
  /** why slicing ended early (an algoStop signal), null when every slice was sent */
  readonly stopped: string | null;
}

export interface ExecAlgoActivities {
  getOrderFills(input: { clientOrderIds: readonly string[] }): Promise<ChildFill[]>;
  recordExecutionQuality(input: {
    sessionId: string;
    decidedAt: number;
    symbol: string;
    side: string;
    algo: string;
    qty: number;
    arrivalPrice: number;
    result: ExecAlgoResult;
  }): Promise<void>;
}
