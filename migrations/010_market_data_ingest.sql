-- Market-data ingest bookkeeping. Findings carry the field that failed and the backfill chunk/batch that
-- wrote them, so a resumed chunk can drop exactly the findings of batches it is about to redo.
ALTER TABLE data_quality
  ADD COLUMN IF NOT EXISTS field     text,
  ADD COLUMN IF NOT EXISTS chunk_key text,
  ADD COLUMN IF NOT EXISTS batch_seq integer;
CREATE INDEX IF NOT EXISTS data_quality_chunk ON data_quality (chunk_key, batch_seq);
CREATE INDEX IF NOT EXISTS data_quality_dataset ON data_quality (dataset, symbol);
