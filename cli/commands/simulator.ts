import type { Command } from 'commander';
import { resolveDatabaseUrl } from '../../src/stack/resolve';
import { loadConfig } from '../../src/config/config';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import {
  loadBarsFromStore,
  loadQuotesFromStore,
  loadTradesFromStore,
  storedSymbols,
} from '../../src/execution/simulator/replay';
import { startSimulatorServer } from '../../src/execution/simulator/server';
import { NYSE, nyWallToUtc } from '../../src/market/calendar';
import { createPool } from '../../src/storage/pool';

const num = (v: string | undefined, field: string, min = 0): number => {
  const x = Number(v);
  if (!Number.isFinite(x) || x < min) throw new Error(`${field}: "${v}" must be a number >= ${min}`);
  return x;
};

/**
 * An idle venue on the wall clock: the broker's API (orders, account, positions, clock, calendar) with no day
 * to play, so no market data and no fills; `stack up` without Alpaca keys starts one unless told a day.
 */
async function idleVenue(
  config: ReturnType<typeof loadConfig>,
  opts: Record<string, string | undefined>,
): Promise<void> {
  const speed = opts.speed === '0' ? 1 : num(opts.speed, '--speed');
  const server = await startSimulatorServer({
    bars: [],
    port: num(opts.port, '--port'),
    startingCash: num(opts.cash, '--cash'),
    keyId: config.APCA_API_KEY_ID,
    secretKey: config.APCA_API_SECRET_KEY,
    startAt: Date.now(),
    speed,
  });
  console.log(
    'Alpaca-compatible simulator: an idle venue on the wall clock (no stored day: no market data, no fills)',
  );
  console.log(`  trading API   APCA_API_BASE_URL=${server.url}`);
  console.log(
    `  clock: ${new Date(server.replay.now()).toISOString()} at ${speed}x; GET ${server.url}/sim/clock`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

/** `trader simulator start`: the Alpaca-compatible venue (broker + market data) over a stored day. */
export function register(program: Command): void {
  const sim = program
    .command('simulator')
    .description('the local Alpaca-compatible venue (broker + market data)');
  sim
    .command('start')
    .description(
      'serve Alpaca’s trading and market-data APIs (REST + WebSockets) over a stored day, on the simulator’s own clock',
    )
    .option(
      '--date <YYYY-MM-DD>',
      'the day to play from the bars table (its quotes and trades too, where stored); without it: an idle venue on the wall clock (orders accepted, no market data)',
    )
    .option('--symbols <list>', 'symbols, comma separated (default: every symbol with 1m bars that day)')
    .option('--port <n>', 'port', '8790')
    .option(
      '--speed <x>',
      'the clock runs at x simulated seconds per wall second (60: the 390-minute day in 6.5 minutes) and publishes bar m when it passes m+1min; 0 = stepped by the session (POST /sim/advance)',
      '0',
    )
    .option(
      '--start <HH:MM>',
      'the simulated New York time the clock starts at (default one minute before the open)',
    )
    .option(
      '--database <url>',
      'read the day from this database instead of DATABASE_URL (the venue’s own store)',
    )
    .option('--cash <usd>', 'starting cash', '100000')
    .option('--latency-ms <ms>', 'fault: latency added to every response', '0')
    .option('--error-rate <f>', 'fault: fraction of responses that are 500/503/429', '0')
    .option('--drop-rate <f>', 'fault: fraction of connections dropped without a response', '0')
    .option(
      '--max-participation <f>',
      'partial fills: at most this fraction of a bar’s volume per order',
      '0',
    )
    .action(async (opts: Record<string, string | undefined>) => {
      const config = loadConfig();
      if (opts.date === undefined) return idleVenue(config, opts);
      const date = opts.date;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !NYSE.sessionFor(date))
        throw new Error(`--date: ${date} is not an NYSE trading day (YYYY-MM-DD)`);
      const speed = num(opts.speed, '--speed');
      let startAt: number | undefined;
      if (opts.start) {
        const m = /^(\d{1,2}):(\d{2})$/.exec(opts.start);
        if (!m) throw new Error(`--start: "${opts.start}" must be HH:MM (New York)`);
        startAt = nyWallToUtc(date, Number(m[1]), Number(m[2]));
      }
      const pool = createPool(opts.database ?? (await resolveDatabaseUrl(config)), { max: 2 });
      const { open, close } = sessionBounds(date);
      let bars, quotes, trades, symbols: string[];
      try {
        symbols = opts.symbols
          ? opts.symbols
              .split(',')
              .map((s) => s.trim().toUpperCase())
              .filter(Boolean)
          : await storedSymbols(pool, { timeframe: '1m', from: open, to: close });
        const range = { symbols, from: open, to: close };
        bars = await loadBarsFromStore(pool, { ...range, timeframe: '1m' });
        quotes = await loadQuotesFromStore(pool, range);
        trades = await loadTradesFromStore(pool, range);
      } finally {
        await pool.end();
      }
      if (!bars.length)
        throw new Error(
          `--date/--symbols: no 1m bars stored for ${symbols.join(',') || 'any symbol'} on ${date}; ingest them first (trader backfill …)`,
        );
      const server = await startSimulatorServer({
        bars,
        quotes,
        trades,
        port: num(opts.port, '--port'),
        startingCash: num(opts.cash, '--cash'),
        maxParticipation: num(opts.maxParticipation, '--max-participation'),
        keyId: config.APCA_API_KEY_ID,
        secretKey: config.APCA_API_SECRET_KEY,
        startAt: startAt ?? open - 60_000,
        speed,
        faults: {
          latencyMs: num(opts.latencyMs, '--latency-ms'),
          errorRate: num(opts.errorRate, '--error-rate'),
          dropRate: num(opts.dropRate, '--drop-rate'),
        },
      });
      console.log(
        `Alpaca-compatible simulator: ${date}, ${symbols.length} symbols, ${bars.length} bars, ${quotes.length} quotes, ${trades.length} trades`,
      );
      console.log(`  trading API   APCA_API_BASE_URL=${server.url}`);
      console.log(`  market data   APCA_DATA_BASE_URL=${server.dataUrl}`);
      console.log(
        `  trade stream  ${server.streamUrl}   market-data stream ${server.marketDataStreamUrl('iex')}`,
      );
      console.log(
        speed > 0
          ? `  clock: ${new Date(server.replay.now()).toISOString()} at ${speed}x (the day takes ${((close - open) / speed / 60_000).toFixed(1)} min); GET/POST ${server.url}/sim/clock`
          : `  clock: stepped (POST ${server.url}/sim/advance, or POST /sim/clock {"speed":60})`,
      );
      console.log(
        `  faults: POST ${server.url}/sim/drop-streams cuts every websocket; POST /sim/faults; state at /sim/state`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
