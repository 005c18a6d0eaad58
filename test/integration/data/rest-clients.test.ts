import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaMarketData } from '../../../src/data/alpaca';
import { getJson } from '../../../src/data/http';
import { PolygonClient } from '../../../src/data/polygon';
import { ingestFromSource, type BarPage } from '../../../src/data/source';
import { UnusualWhalesClient } from '../../../src/data/unusual-whales';
import { PermanentError, TemporaryError } from '../../../src/model/errors';
import { fixture, startStub, type HttpStub } from '../../support/http-stub';
import { RecordingRepo } from '../../support/recording-repo';

const FROM = Date.UTC(2024, 0, 3, 14, 30);
const TO = Date.UTC(2024, 0, 3, 21, 0);
const req = { symbol: 'AAPL', timeframe: '1m' as const, fromMs: FROM, toMs: TO };

async function collect(pages: AsyncIterable<BarPage>): Promise<BarPage[]> {
  const out: BarPage[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

void describe('REST data clients against a local stub', () => {
  let stub: HttpStub;
  before(async () => {
    stub = await startStub();
  });
  after(async () => stub.close());
  beforeEach(() => stub.reset());

  void describe('Alpaca (official SDK)', () => {
    const client = () =>
      new AlpacaMarketData({
        keyId: 'PKTEST',
        secret: 'secret',
        dataBaseUrl: stub.url,
        timeoutMs: 300,
        maxRetries: 2,
        retryDelayMs: 10,
      });

    void test('when bars span two pages, then both are followed by page token, bad records are reported and good ones stored', async () => {
      stub.enqueue(
        { body: fixture('alpaca', 'data-bars-page1.json') },
        { body: fixture('alpaca', 'data-bars-page2.json') },
      );
      const repo = new RecordingRepo();
      const r = await ingestFromSource({ source: client(), request: req, repo });
      assert.equal(stub.requests.length, 2);
      assert.match(stub.requests[0]!.url, /^\/v2\/stocks\/bars\?/);
      assert.match(stub.requests[0]!.url, /feed=iex/);
      assert.match(stub.requests[1]!.url, /page_token=QUFQTHxNfDIwMjQtMDEtMDNUMTQ6MzE6MDBa/);
      assert.equal(stub.requests[0]!.headers['apca-api-key-id'], 'PKTEST');
      assert.equal(r.rowsStored, 3);
      assert.equal(repo.barRows.length, 3);
      const missing = repo.findings.find((f) => f.rule === 'parse_error')!;
      assert.equal(missing.field, 'o');
      assert.equal(missing.location, 'alpaca bars AAPL 1m page 2 record 1');
      const inconsistent = repo.findings.find((f) => f.rule === 'ohlc_inconsistent')!;
      assert.equal(inconsistent.location, 'alpaca bars AAPL 1m page 2');
      assert.equal(r.rejected, 2);
    });

    void test('when the server answers 429 with Retry-After and then 503, then the SDK retries and the page arrives', async () => {
      stub.enqueue(
        { status: 429, headers: { 'retry-after': '1' }, body: '{"message":"too many requests"}' },
        { status: 503, body: 'unavailable' },
        { body: fixture('alpaca', 'data-bars-page2.json') },
      );
      const pages = await collect(client().fetchBars(req));
      assert.equal(stub.requests.length, 3);
      assert.equal(pages[0]!.bars.length, 2);
    });

    void test('when 5xx persists, when the body is malformed, or when the server hangs, then a retryable error names the request', async () => {
      stub.enqueue({ status: 500, body: 'x' }, { status: 500, body: 'x' }, { status: 500, body: 'x' });
      await assert.rejects(
        collect(client().fetchBars(req)),
        (e: Error) => e instanceof TemporaryError && /alpaca bars AAPL 1m page 1: HTTP 500/.test(e.message),
      );
      stub.enqueue({ body: '{"bars": {"AAPL": [' });
      await assert.rejects(
        collect(client().fetchBars(req)),
        (e: Error) => e instanceof TemporaryError && /malformed body/.test(e.message),
      );
      stub.enqueue('hang', 'hang', 'hang');
      await assert.rejects(
        collect(client().fetchBars(req)),
        (e: Error) => e instanceof TemporaryError && /alpaca bars AAPL 1m page 1/.test(e.message),
      );
    });

    void test('when credentials are refused, then the error is permanent and not retried', async () => {
      stub.enqueue({ status: 403, body: '{"message":"forbidden"}' });
      await assert.rejects(
        collect(client().fetchBars(req)),
        (e: Error) => e instanceof PermanentError && /HTTP 403/.test(e.message),
      );
      assert.equal(stub.requests.length, 1);
    });

    void test('when quotes and trades are fetched, then they are typed with their sizes and prices', async () => {
      stub.enqueue(
        { body: fixture('alpaca', 'data-quotes.json') },
        { body: fixture('alpaca', 'data-trades.json') },
      );
      const quotes = [];
      for await (const p of client().fetchQuotes('AAPL', FROM, TO)) quotes.push(...p.quotes);
      const trades = [];
      for await (const p of client().fetchTrades('AAPL', FROM, TO)) trades.push(...p.trades);
      assert.deepEqual(quotes[0], {
        symbol: 'AAPL',
        ts: Date.parse('2024-01-03T14:30:00.123Z'),
        bid: 184.2,
        ask: 184.25,
        bidSize: 3,
        askSize: 2,
      });
      assert.equal(trades.length, 2);
      assert.equal(trades[1]!.size, 50);
    });
  });

  void describe('Polygon aggregates', () => {
    const delays: number[] = [];
    const client = () =>
      new PolygonClient({
        apiKey: 'pk_test',
        baseUrl: stub.url,
        timeoutMs: 300,
        maxRetries: 2,
        baseDelayMs: 5,
        sleep: (ms) => (delays.push(ms), Promise.resolve()),
      });

    void test('when results span next_url pages, then all are read, the key is sent, and a bad record names its field', async () => {
      stub.enqueue(
        { body: fixture('polygon', 'aggs-page1.json', stub.url) },
        { body: fixture('polygon', 'aggs-page2.json') },
      );
      const pages = await collect(client().fetchBars(req));
      assert.equal(stub.requests.length, 2);
      assert.match(
        stub.requests[0]!.url,
        new RegExp(
          `^/v2/aggs/ticker/AAPL/range/1/minute/${FROM}/${TO - 1}\\?adjusted=true&sort=asc&limit=50000&apiKey=pk_test`,
        ),
      );
      assert.match(stub.requests[1]!.url, /cursor=bGltaXQ9MiZzb3J0PWFzYw&apiKey=pk_test/);
      assert.deepEqual(
        pages.map((p) => p.bars.length),
        [2, 1],
      );
      assert.deepEqual(pages[1]!.problems, [
        { index: 1, field: 'o', problem: 'missing or not a finite number', value: '"184.05"' },
      ]);
      assert.equal(pages[0]!.bars[0]!.vwap, 184.27);
    });

    void test('when 429 carries Retry-After: 2, then the client waits 2 s before retrying', async () => {
      delays.length = 0;
      stub.enqueue(
        { status: 429, headers: { 'retry-after': '2' }, body: '{"status":"ERROR"}' },
        { body: fixture('polygon', 'aggs-page2.json') },
      );
      const pages = await collect(client().fetchBars(req));
      assert.deepEqual(delays, [2000]);
      assert.equal(pages.length, 1);
    });

    void test('when 5xx, malformed JSON and timeouts persist, then a TemporaryError says which and after how many attempts', async () => {
      stub.enqueue(
        { status: 502, body: 'bad gateway' },
        { status: 502, body: '' },
        { status: 502, body: '' },
      );
      await assert.rejects(
        collect(client().fetchBars(req)),
        /polygon aggs AAPL 1m page 1: server error 502 \(gave up after 3 attempts\)/,
      );
      stub.enqueue({ body: '<html>oops' }, { body: '<html>oops' }, { body: '<html>oops' });
      await assert.rejects(collect(client().fetchBars(req)), /malformed body \(not JSON\): <html>oops/);
      stub.enqueue('hang', 'hang', 'hang');
      await assert.rejects(collect(client().fetchBars(req)), /timed out after 300 ms/);
      stub.enqueue({ body: '{"results": 5}' });
      await assert.rejects(
        collect(client().fetchBars(req)),
        (e: Error) => e instanceof PermanentError && /field "results" is not valid/.test(e.message),
      );
    });
  });

  void describe('Unusual Whales options flow', () => {
    void test('when alerts span two pages, then paging goes back with older_than, the token is a Bearer header, and an incomplete record is reported', async () => {
      stub.enqueue(
        { body: fixture('unusual-whales', 'flow-alerts-page1.json') },
        { body: fixture('unusual-whales', 'flow-alerts-page2.json') },
        { body: '{"data": []}' },
      );
      const uw = new UnusualWhalesClient({
        token: 'uw_test',
        baseUrl: stub.url,
        limit: 2,
        maxRetries: 1,
        baseDelayMs: 1,
      });
      const pages = [];
      for await (const p of uw.flowAlerts('AAPL', Date.UTC(2024, 0, 3, 14, 0), Date.UTC(2024, 0, 3, 16, 0)))
        pages.push(p);
      assert.equal(stub.requests.length, 3, 'a full page asks for the next; an empty one ends');
      assert.equal(stub.requests[0]!.headers.authorization, 'Bearer uw_test');
      assert.match(stub.requests[1]!.url, /older_than=2024-01-03T15%3A00%3A00.000Z/);
      const rows = pages.flatMap((p) => p.rows);
      assert.equal(rows.length, 3);
      assert.deepEqual(
        {
          putCall: rows[1]!.putCall,
          strike: rows[1]!.strike,
          premium: rows[1]!.premium,
          expiry: rows[1]!.expiry,
        },
        { putCall: 'put', strike: 180, premium: 540000, expiry: '2024-01-19' },
      );
      assert.deepEqual(pages[1]!.problems, [{ index: 1, field: 'id', problem: 'missing' }]);
    });

    void test('when the body lacks data, then the error names the field', async () => {
      stub.enqueue({ body: '{"error":"x"}' });
      const uw = new UnusualWhalesClient({ token: 't', baseUrl: stub.url, maxRetries: 0 });
      await assert.rejects(async () => {
        for await (const _ of uw.flowAlerts('AAPL', 0, Date.now())) void _;
      }, /field "data" is missing/);
    });
  });

  void test('when Retry-After is an HTTP date, then it is honoured as a delay', async () => {
    const delays: number[] = [];
    stub.enqueue(
      { status: 429, headers: { 'retry-after': new Date(Date.now() + 3_000).toUTCString() }, body: '' },
      { body: '{}' },
    );
    await getJson(`${stub.url}/x`, { sleep: (ms) => (delays.push(ms), Promise.resolve()), maxRetries: 1 });
    assert.ok(delays[0]! > 1_000 && delays[0]! <= 3_000);
  });
});
