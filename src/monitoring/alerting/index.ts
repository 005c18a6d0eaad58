export * from './alert';
export * from './slack-alerter';
