export * from './dollar-profit';
export * from './standard';
