-- Feature importance per model (e.g. XGBoost gain per feature name; null until a method is run for that kind),
-- kept beside the metrics so drift and attribution reports can read it without parsing model artifacts.
ALTER TABLE models ADD COLUMN feature_importance jsonb;
