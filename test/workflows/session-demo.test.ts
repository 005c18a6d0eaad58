import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadVenueDay, runPaperSessionDemo } from '../../cli/session-demo';
import { readSessionBoard } from '../../src/monitoring/dashboard/sessions';
import { demoDays } from '../../cli/commands/demo';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { PAPER_DAY, seedVenueDay } from '../support/paper-session';
import { connectTemporal, TEST_TEMPORAL_ADDRESS, type TemporalTestContext } from '../support/temporal';

const SYMBOLS = ['DMA', 'DMB', 'DMC'];

describe('demo: a paper session on the simulator, bars through the stream', () => {
  let store: TestDatabase;
  let venue: TestDatabase;
  let t: TemporalTestContext;
  before(async () => {
    store = await createTestDatabase('tt_session_demo');
    venue = await createTestDatabase('tt_session_demo_venue');
    await seedVenueDay(venue.pool, SYMBOLS, 9);
    t = await connectTemporal();
  });
  after(async () => {
    await t?.close();
    await store?.drop();
    await venue?.drop();
  });

  test('when the demo step runs on the venue’s day, then the session trades it at the venue’s pace with bars that reached the store only through the stream, and prints where to watch', async () => {
    const lines: string[] = [];
    const summary = await runPaperSessionDemo({
      client: t.client,
      temporalAddress: TEST_TEMPORAL_ADDRESS,
      namespace: 'default',
      pool: store.pool,
      venuePool: venue.pool,
      date: PAPER_DAY,
      symbols: SYMBOLS,
      maxBars: 15,
      log: (l: string) => lines.push(l),
    });
    assert.match(
      summary,
      /^decided by sma-trend \(no model\); paper session on the simulator's 2024-11-29 at 60x \(15 bars, 3 symbols\), bars through the websocket stream \(\d+ via stream\): \d+ orders placed once each, day P&L \$-?\d+\.\d\d, flat at the end: true$/,
    );
    assert.ok(lines.some((l) => /watch the session: http:\/\/.*\/workflows\/demo-paper-2024-11-29-/.test(l)));
    const { rows } = await store.pool.query<{ n: string }>(
      `select count(*)::text as n from bars b where not exists
         (select 1 from bar_receipts r where r.symbol = b.symbol and r.ts = b.ts and r.path = 'stream')`,
    );
    assert.equal(Number(rows[0]!.n), 0, 'every stored bar came through the stream');
    // the live dashboard sees the finished session with its fills (the demo's execution worker audits them)
    const board = await readSessionBoard({ pool: store.pool });
    const shown = board.finished.find((v) => v.sessionId.startsWith(`demo-paper-${PAPER_DAY}-`));
    assert.ok(shown, 'the demo session is on the dashboard');
    const placed = Number(/(\d+) orders placed/.exec(summary)![1]);
    if (placed > 0) assert.ok(shown.fills.count > 0, 'its fills from the audit log');
    assert.ok(shown.addsUp, `realised + unrealised − costs = equity − start (${JSON.stringify(shown)})`);
  });

  test('when the demo’s days are planned, then the venue’s day follows the history and is loaded only into the venue’s database', async () => {
    const { history, venueDay } = demoDays(undefined);
    assert.equal(venueDay, '2024-01-31');
    assert.equal(history.toMs, Date.parse('2024-01-31T00:00:00Z'), 'the history ends before the venue’s day');
    const rows = await loadVenueDay(venue.pool, history, venueDay, undefined);
    assert.ok(rows > 0, `synthetic venue day loaded (${rows} rows)`);
    const inStore = await store.pool.query<{ n: string }>(
      `select count(*)::text as n from bars where ts >= '2024-01-31' and ts < '2024-02-01'`,
    );
    assert.equal(Number(inStore.rows[0]!.n), 0);
  });
});
