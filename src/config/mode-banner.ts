import type { AppConfig } from './config';

/** The line every process prints at start about the money at stake; live mode is impossible to miss. */
export function tradingModeBanner(
  config: Pick<AppConfig, 'TRADING_MODE' | 'hasAlpacaCredentials' | 'APCA_API_BASE_URL'>,
): string {
  if (config.TRADING_MODE === 'live') {
    const bar = '!'.repeat(78);
    return [
      bar,
      '!!  LIVE TRADING: orders go to Alpaca LIVE with REAL MONEY.',
      `!!  endpoint: ${config.APCA_API_BASE_URL ?? 'https://api.alpaca.markets'}`,
      '!!  To stop: npm run trader -- shutdown --emergency   (or unset TRADING_MODE for paper)',
      bar,
    ].join('\n');
  }
  const broker = config.hasAlpacaCredentials ? 'Alpaca paper' : 'the local Alpaca-compatible simulator';
  return `trading mode: ${config.TRADING_MODE} (${broker}; no real money)`;
}
