export * from './types';
export * from './sizing';
export * from './engine';
