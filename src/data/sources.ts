/**
 * Builds the network data sources a worker may use from the validated config. Credentials come from the
 * environment only; a source without credentials is simply absent (the backfill then says so). A local
 * Alpaca-compatible simulator (APCA_API_BASE_URL / APCA_DATA_BASE_URL on localhost) counts as Alpaca and
 * needs no keys, as for the execution worker.
 */
import type { AppConfig } from '../config/config';
import { AlpacaMarketData } from './alpaca';
import { PolygonClient } from './polygon';
import type { BarSource } from './source';
import { UnusualWhalesClient } from './unusual-whales';

export interface NetworkSources {
  readonly alpaca?: AlpacaMarketData;
  readonly polygon?: BarSource;
  readonly unusualWhales?: UnusualWhalesClient;
}

type SourceConfig = Pick<
  AppConfig,
  | 'APCA_API_KEY_ID'
  | 'APCA_API_SECRET_KEY'
  | 'APCA_API_BASE_URL'
  | 'APCA_DATA_BASE_URL'
  | 'POLYGON_API_KEY'
  | 'UNUSUAL_WHALES_API_KEY'
  | 'TRADING_MODE'
>;

/** Where Alpaca's market data lives for this worker, and how to authenticate there. */
export interface AlpacaEndpoints {
  readonly keyId: string;
  readonly secret: string;
  /** Historical data REST (data.alpaca.markets, or the simulator). */
  readonly dataBaseUrl: string;
  /** The trading API, for the venue's clock (/v2/clock). */
  readonly tradingBaseUrl: string;
  /** The real-time market-data websocket of a feed. */
  streamUrl(feed: string): string;
  readonly simulator: boolean;
}

const LOCAL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/;
const trim = (u: string) => u.replace(/\/+$/, '');

/** Alpaca's endpoints from the config; undefined when neither credentials nor a local simulator are set. */
export function alpacaEndpointsFromConfig(
  config: Pick<
    SourceConfig,
    'APCA_API_KEY_ID' | 'APCA_API_SECRET_KEY' | 'APCA_API_BASE_URL' | 'APCA_DATA_BASE_URL' | 'TRADING_MODE'
  >,
): AlpacaEndpoints | undefined {
  const trading = config.APCA_API_BASE_URL && trim(config.APCA_API_BASE_URL);
  const data = config.APCA_DATA_BASE_URL && trim(config.APCA_DATA_BASE_URL);
  const localData = data ? LOCAL.test(data) : trading ? LOCAL.test(trading) : false;
  const keys = Boolean(config.APCA_API_KEY_ID && config.APCA_API_SECRET_KEY);
  if (!keys && !localData) return undefined;
  const dataBaseUrl = data ?? (localData ? trading! : 'https://data.alpaca.markets');
  const tradingBaseUrl =
    trading ??
    (localData
      ? dataBaseUrl
      : config.TRADING_MODE === 'live'
        ? 'https://api.alpaca.markets'
        : 'https://paper-api.alpaca.markets');
  return {
    keyId: config.APCA_API_KEY_ID ?? 'SIMULATOR',
    secret: config.APCA_API_SECRET_KEY ?? 'SIMULATOR',
    dataBaseUrl,
    tradingBaseUrl,
    streamUrl: (feed) =>
      localData
        ? `${dataBaseUrl.replace(/^http/, 'ws')}/v2/${feed}`
        : `wss://stream.data.alpaca.markets/v2/${feed}`,
    simulator: localData,
  };
}

export function networkSourcesFromConfig(config: SourceConfig): NetworkSources {
  const alpaca = alpacaEndpointsFromConfig(config);
  return {
    ...(alpaca
      ? {
          alpaca: new AlpacaMarketData({
            keyId: alpaca.keyId,
            secret: alpaca.secret,
            dataBaseUrl: alpaca.dataBaseUrl,
          }),
        }
      : {}),
    ...(config.POLYGON_API_KEY ? { polygon: new PolygonClient({ apiKey: config.POLYGON_API_KEY }) } : {}),
    ...(config.UNUSUAL_WHALES_API_KEY
      ? { unusualWhales: new UnusualWhalesClient({ token: config.UNUSUAL_WHALES_API_KEY }) }
      : {}),
  };
}
