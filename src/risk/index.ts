export * from './types';
export * from './sizing';
export * from './engine';
export * from './gate';
export * from './volatility';
