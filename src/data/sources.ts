/**
 * Builds the network data sources a worker may use from the validated config. Credentials come from the
 * environment only; a source without credentials is simply absent (the backfill then says so).
 */
import type { AppConfig } from '../config/config';
import { AlpacaMarketData } from './alpaca';
import { PolygonClient } from './polygon';
import type { BarSource } from './source';
import { UnusualWhalesClient } from './unusual-whales';

export interface NetworkSources {
  readonly alpaca?: BarSource;
  readonly polygon?: BarSource;
  readonly unusualWhales?: UnusualWhalesClient;
}

export function networkSourcesFromConfig(
  config: Pick<
    AppConfig,
    | 'APCA_API_KEY_ID'
    | 'APCA_API_SECRET_KEY'
    | 'APCA_DATA_BASE_URL'
    | 'POLYGON_API_KEY'
    | 'UNUSUAL_WHALES_API_KEY'
  >,
): NetworkSources {
  return {
    ...(config.APCA_API_KEY_ID && config.APCA_API_SECRET_KEY
      ? {
          alpaca: new AlpacaMarketData({
            keyId: config.APCA_API_KEY_ID,
            secret: config.APCA_API_SECRET_KEY,
            dataBaseUrl: config.APCA_DATA_BASE_URL,
          }),
        }
      : {}),
    ...(config.POLYGON_API_KEY ? { polygon: new PolygonClient({ apiKey: config.POLYGON_API_KEY }) } : {}),
    ...(config.UNUSUAL_WHALES_API_KEY
      ? { unusualWhales: new UnusualWhalesClient({ token: config.UNUSUAL_WHALES_API_KEY }) }
      : {}),
  };
}
