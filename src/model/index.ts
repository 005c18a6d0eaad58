export * from './timeframe';
export * from './ids';
export * from './bar';
export * from './errors';
