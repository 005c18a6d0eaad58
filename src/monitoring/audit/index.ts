export * from './audit-log';
export * from './identity';
export * from './order-audit';
export * from './control-audit';
export * from './activity-context';
