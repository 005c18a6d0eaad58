/**
 * Real-time market-data activities (io queue). Thin: validate the input, build the consumer from the worker's
 * endpoints, run it with the activity's heartbeat and cancellation, map errors onto Temporal failures.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  MarketDataStreamInputSchema,
  type MarketDataActivities,
  type MarketDataStreamProgress,
} from '../contracts/market-data';
import { AlpacaMarketData } from '../src/data/alpaca';
import { AlpacaMarketStream } from '../src/data/alpaca-stream';
import type { AlpacaEndpoints } from '../src/data/sources';
import { MarketDataConsumer } from '../src/data/stream/consumer';
import { alpacaVenueClock } from '../src/data/stream/venue-clock';
import { TickStore } from '../src/data/tick-store';
import { isCryptoSymbol } from '../src/market/calendar';
import { streamWindow } from '../src/data/stream/window';
import { TradingError } from '../src/model/errors';
import { MarketDataRepository } from '../src/storage/market-data-repo';

export interface MarketDataActivityDeps {
  readonly pool: Pool;
  /** Alpaca (or the local simulator); undefined when the worker has neither keys nor a simulator URL. */
  readonly alpaca?: AlpacaEndpoints;
}

function details(): Partial<MarketDataStreamProgress> | undefined {
  const d = Context.current().info.heartbeatDetails as Partial<MarketDataStreamProgress> | undefined;
  return d && typeof d === 'object' && d.lastStored && typeof d.lastStored === 'object' ? d : undefined;
}

export function createMarketDataActivities(deps: MarketDataActivityDeps): MarketDataActivities {
  return {
    async streamMarketData(raw): Promise<MarketDataStreamProgress> {
      const { streamId, ...rest } = raw;
      const parsed = MarketDataStreamInputSchema.safeParse(rest);
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '),
          'ValidationError',
        );
      const input = parsed.data;
      const crypto = input.symbols.filter(isCryptoSymbol);
      if (crypto.length)
        throw ApplicationFailure.nonRetryable(
          `symbols: ${crypto.join(', ')} are crypto pairs; the stream consumes Alpaca's stock feed only`,
          'ValidationError',
        );
      const alpaca = deps.alpaca;
      if (!alpaca)
        throw ApplicationFailure.nonRetryable(
          'alpaca: this io worker has no market-data venue: set APCA_API_KEY_ID/APCA_API_SECRET_KEY, or point APCA_API_BASE_URL at the local simulator',
          'ConfigError',
        );
      const feed = input.feed ?? 'iex';
      const ctx = Context.current();
      let window: { fromMs: number; untilMs: number };
      try {
        window = streamWindow(input.date, input.session);
      } catch (e) {
        throw ApplicationFailure.nonRetryable((e as Error).message, 'ValidationError');
      }
      const consumer = new MarketDataConsumer({
        streamId,
        feed,
        symbols: input.symbols,
        focus: input.focus,
        ...window,
        stream: new AlpacaMarketStream({
          keyId: alpaca.keyId,
          secret: alpaca.secret,
          url: alpaca.streamUrl(feed),
          feed,
        }),
        rest: new AlpacaMarketData({
          keyId: alpaca.keyId,
          secret: alpaca.secret,
          dataBaseUrl: alpaca.dataBaseUrl,
          feed,
        }),
        store: new TickStore(deps.pool),
        findings: new MarketDataRepository(deps.pool),
        clock: alpacaVenueClock({
          keyId: alpaca.keyId,
          secret: alpaca.secret,
          tradingBaseUrl: alpaca.tradingBaseUrl,
        }),
        resume: details(),
        heartbeat: (p) => ctx.heartbeat(p),
        // well inside the heartbeat timeout (a short one notices a dead worker fast, but must not time out a live one)
        heartbeatMs: Math.min(2_000, Math.max(100, Math.floor((ctx.info.heartbeatTimeoutMs ?? 30_000) / 3))),
        signal: ctx.cancellationSignal,
        clockPollMs: input.clockPollMs,
        closeGraceMs: input.closeGraceMs,
        log: (m) => ctx.log.info(`${streamId}: ${m}`),
      });
      try {
        return await consumer.run();
      } catch (e) {
        if (e instanceof TradingError && !e.retryable)
          throw ApplicationFailure.nonRetryable(e.message, e.name);
        throw e;
      }
    },
  };
}
