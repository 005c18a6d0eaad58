export * from './alert';
export * from './slack-alerter';
export * from './operator-alerts';
