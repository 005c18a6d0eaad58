/** Incremental indicators and batch kernels (TA-Lib definitions where TA-Lib has them). */
export * from './core';
export * from './clock';
export * from './primitives';
export * from './moving-averages';
export * from './oscillators';
export * from './trend';
export * from './volatility';
export * from './volume';
export * from './stats';
export * from './candles';
export * from './microstructure';
export * from './registry';
