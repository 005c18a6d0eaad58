export * from './engine';
export * from './feed';
export * from './metrics';
export * from './monte-carlo';
export * from './sensitivity';
export * from './analysis';
export * from './report';
export * from './data';
export { mulberry32 } from './random';
