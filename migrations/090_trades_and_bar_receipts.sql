-- Trades (prints) from Alpaca's REST history and real-time stream: one row per (symbol, ts, exchange,
-- trade id). Sources without an exchange or trade id store '' there, so two prints of one symbol in the
-- same millisecond from such a source keep the last one written.
SELECT create_time_series_table('trades', $cols$
  symbol      text             NOT NULL,
  ts          timestamptz      NOT NULL,
  exchange    text             NOT NULL DEFAULT '',
  trade_id    text             NOT NULL DEFAULT '',
  price       double precision NOT NULL,
  size        double precision NOT NULL,
  conditions  text[],
  tape        text,
  source      text             NOT NULL,
  synthetic   boolean          NOT NULL DEFAULT false,
  ingested_at timestamptz      NOT NULL DEFAULT now()
$cols$, 'symbol, ts, exchange, trade_id', 'ts');

-- How each bar of a real-time feed reached the store (the latency probe): the first write of a bar wins.
-- path: 'stream' (the websocket) or 'rest' (the gap fill after a disconnect or restart).
-- venue_close_at: the bar's close on the venue's clock (ts + the timeframe); close_wall_at: the same
-- instant on this machine's wall clock (differs from venue_close_at only on a simulator running at another
-- speed or on another day); received_at / stored_at: wall clock when the bar arrived and when its write
-- committed. Latency = stored_at - close_wall_at.
SELECT create_time_series_table('bar_receipts', $cols$
  symbol         text        NOT NULL,
  timeframe      text        NOT NULL,
  ts             timestamptz NOT NULL,
  feed           text        NOT NULL,
  path           text        NOT NULL CHECK (path IN ('stream', 'rest')),
  venue_close_at timestamptz NOT NULL,
  close_wall_at  timestamptz NOT NULL,
  received_at    timestamptz NOT NULL,
  stored_at      timestamptz NOT NULL,
  stream_id      text        NOT NULL
$cols$, 'symbol, timeframe, ts, feed', 'ts');
