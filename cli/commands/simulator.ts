import type { Command } from 'commander';
import { resolveDatabaseUrl } from '../../src/stack/resolve';
import { loadConfig } from '../../src/config/config';
import { sessionBounds } from '../../src/execution/simulator/calendar';
import { loadBarsFromStore } from '../../src/execution/simulator/replay';
import { startSimulatorServer } from '../../src/execution/simulator/server';
import { createPool } from '../../src/storage/pool';

/** `trader simulator start`: the Alpaca-compatible simulator over a stored day, for paper and replay. */
export function register(program: Command): void {
  const sim = program.command('simulator').description('the local Alpaca-compatible broker simulator');
  sim
    .command('start')
    .description('serve the Alpaca REST + WebSocket APIs over a replay of stored 1m bars')
    .requiredOption('--date <YYYY-MM-DD>', 'the day to replay from the bars table')
    .requiredOption('--symbols <list>', 'symbols, comma separated')
    .option('--port <n>', 'port', '8790')
    .option(
      '--speed <x>',
      'auto replay: bars per bar-interval of wall time (60 = one bar per second); 0 = stepped by the session',
      '0',
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
    .action(async (opts: Record<string, string>) => {
      const config = loadConfig();
      const pool = createPool(await resolveDatabaseUrl(config), { max: 2 });
      const symbols = opts
        .symbols!.split(',')
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      const { open, close } = sessionBounds(opts.date!);
      const bars = await loadBarsFromStore(pool, { symbols, timeframe: '1m', from: open, to: close });
      await pool.end();
      if (!bars.length)
        throw new Error(
          `--date/--symbols: no 1m bars stored for ${symbols.join(',')} on ${opts.date}; ingest them first (trader data ...)`,
        );
      const server = await startSimulatorServer({
        bars,
        port: Number(opts.port),
        startingCash: Number(opts.cash),
        maxParticipation: Number(opts.maxParticipation),
        keyId: config.APCA_API_KEY_ID,
        secretKey: config.APCA_API_SECRET_KEY,
        startAt: open - 60_000,
        faults: {
          latencyMs: Number(opts.latencyMs),
          errorRate: Number(opts.errorRate),
          dropRate: Number(opts.dropRate),
        },
      });
      if (Number(opts.speed) > 0) server.replay.start(Number(opts.speed));
      console.log(
        `Alpaca-compatible simulator: ${bars.length} bars of ${symbols.length} symbols on ${opts.date}`,
      );
      console.log(`  trading API   APCA_API_BASE_URL=${server.url}`);
      console.log(`  market data   APCA_DATA_BASE_URL=${server.dataUrl}`);
      console.log(`  trade stream  ${server.streamUrl}   bars stream ${server.marketDataStreamUrl('iex')}`);
      console.log(
        `  replay: ${Number(opts.speed) > 0 ? `auto at ${opts.speed}x` : 'stepped (POST /sim/advance)'}; state at ${server.url}/sim/state`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
    });
}
