export * from './host-stats';
export * from './page';
export * from './server';
export * from './snapshot';
