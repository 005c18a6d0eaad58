import { redactUrl } from '../security/redact';
import { ALPACA_LIVE_URL, ALPACA_PAPER_URL, brokerEndpointMode, type AppConfig } from './config';

/**
 * The line every process prints at start about the money at stake, from the broker endpoint actually
 * configured (brokerEndpointMode), not from TRADING_MODE alone; live mode is impossible to miss.
 */
export function tradingModeBanner(
  config: Pick<AppConfig, 'TRADING_MODE' | 'hasAlpacaCredentials' | 'APCA_API_BASE_URL'>,
): string {
  const base = config.APCA_API_BASE_URL ? redactUrl(config.APCA_API_BASE_URL) : undefined;
  switch (brokerEndpointMode(config)) {
    case 'live': {
      const bar = '!'.repeat(78);
      return [
        bar,
        '!!  LIVE TRADING: orders go to Alpaca LIVE with REAL MONEY.',
        `!!  endpoint: ${base ?? ALPACA_LIVE_URL}`,
        '!!  To stop: npm run trader -- shutdown --emergency   (or unset TRADING_MODE for paper)',
        bar,
      ].join('\n');
    }
    case 'paper':
      return `trading mode: ${config.TRADING_MODE} (Alpaca paper at ${base ?? ALPACA_PAPER_URL}; no real money)`;
    case 'simulator':
      return base
        ? `trading mode: ${config.TRADING_MODE} (the local Alpaca-compatible simulator at ${base}; no real money)`
        : `trading mode: ${config.TRADING_MODE} (no broker configured: set APCA_API_BASE_URL to a local simulator or Alpaca paper keys; no real money)`;
  }
}
