/**
 * Features: versioned feature sets, the multi-timeframe matrix (no look-ahead), labels and the store.
 *
 *   const bars = barsFromMinutes(minuteColumns, CORE_FEATURE_SET.timeframes);
 *   const m = buildFeatureMatrix(bars, CORE_FEATURE_SET, { symbol });   // { names, ts, values (row-major Float32) }
 *   const y = buildLabels(bars['1m']!, CORE_FEATURE_SET.labels);         // { names, values }
 */
export * from './definition';
export * from './compute';
export * from './matrix';
export * from './labels';
export * from './sets';
export * from './prepare';
export * from './parallel-protocol';
export * from './parallel';
export * from './online';
