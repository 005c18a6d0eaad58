-- src/features versions feature sets by a content hash (e.g. '7685e48d4185fc67'), not an integer.
ALTER TABLE models ALTER COLUMN feature_set_version TYPE text USING feature_set_version::text;
