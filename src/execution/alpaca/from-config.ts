import type { AppConfig } from '../../config/config';
import { ConfigError } from '../../model/errors';
import { httpReplayDriver, type ReplayDriver } from '../simulator/replay-driver';
import { AlpacaBroker } from './adapter';

/**
 * The execution worker's broker from the validated config, in one place (no `if (paper)` anywhere else):
 * - APCA_API_BASE_URL pointing at a local simulator → the simulator (credentials optional; its bar replay is
 *   driven through /sim/advance for replay sessions), unless TRADING_MODE=live: the operator declared real money,
 *   so whatever the URL serves is treated as a live broker (no replay, no paper session);
 * - credentials without a base URL → Alpaca paper, or live when TRADING_MODE=live (config validation has
 *   already demanded LIVE_TRADING_CONFIRM for that).
 */
export interface ExecutionBrokerDeps {
  readonly broker: AlpacaBroker;
  readonly replay?: ReplayDriver;
  readonly target: 'simulator' | 'alpaca-paper' | 'alpaca-live';
}

const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/;

export function executionBrokerFromConfig(
  config: Pick<
    AppConfig,
    'APCA_API_KEY_ID' | 'APCA_API_SECRET_KEY' | 'APCA_API_BASE_URL' | 'APCA_DATA_BASE_URL' | 'TRADING_MODE'
  >,
): ExecutionBrokerDeps {
  const base = config.APCA_API_BASE_URL;
  if (base && LOCAL.test(base) && config.TRADING_MODE !== 'live') {
    const url = base.replace(/\/+$/, '');
    return {
      broker: new AlpacaBroker({
        keyId: config.APCA_API_KEY_ID ?? 'SIMULATOR',
        secret: config.APCA_API_SECRET_KEY ?? 'SIMULATOR',
        baseUrl: url,
        dataBaseUrl: config.APCA_DATA_BASE_URL ?? url,
        streamUrl: `${url.replace(/^http/, 'ws')}/stream`,
      }),
      replay: httpReplayDriver(url),
      target: 'simulator',
    };
  }
  if (!config.APCA_API_KEY_ID || !config.APCA_API_SECRET_KEY) {
    throw new ConfigError(
      'APCA_API_KEY_ID/APCA_API_SECRET_KEY: not set; set them for Alpaca paper, or start the simulator (`npm run trader -- simulator start ...`) and set APCA_API_BASE_URL to it',
    );
  }
  const live = config.TRADING_MODE === 'live';
  const url = base ?? (live ? 'https://api.alpaca.markets' : 'https://paper-api.alpaca.markets');
  return {
    broker: new AlpacaBroker({
      keyId: config.APCA_API_KEY_ID,
      secret: config.APCA_API_SECRET_KEY,
      baseUrl: url,
      dataBaseUrl: config.APCA_DATA_BASE_URL ?? 'https://data.alpaca.markets',
      streamUrl: `${url.replace(/^http/, 'ws')}/stream`,
      rateLimitPerMinute: 190,
    }),
    target: live ? 'alpaca-live' : 'alpaca-paper',
  };
}
