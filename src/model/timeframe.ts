/** Bar timeframes the system trades and stores. 1m is the source of truth; the rest are derived. */
export const TIMEFRAMES = ['1m', '5m', '15m', '1h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE = 60_000;
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  '1m': MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '1h': 60 * MINUTE,
  '1d': 24 * 60 * MINUTE,
};

export function isTimeframe(value: unknown): value is Timeframe {
  return typeof value === 'string' && (TIMEFRAMES as readonly string[]).includes(value);
}

export function parseTimeframe(value: string, field = 'timeframe'): Timeframe {
  const aliases: Record<string, Timeframe> = {
    '1min': '1m',
    '1minute': '1m',
    '5min': '5m',
    '15min': '15m',
    '60m': '1h',
    '1hour': '1h',
    '1day': '1d',
    d: '1d',
  };
  const tf = isTimeframe(value) ? value : aliases[value.toLowerCase()];
  if (!tf)
    throw new RangeError(`${field}: "${value}" is not a timeframe; use one of ${TIMEFRAMES.join(', ')}`);
  return tf;
}

/** Rank for ordering timeframes from finest to coarsest. */
export function timeframeRank(tf: Timeframe): number {
  return TIMEFRAMES.indexOf(tf);
}
