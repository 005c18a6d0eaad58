-- Model registry: one row per trained model; artifacts live under the artifact directory (paths stored here).
CREATE TABLE models (
  id                  text        PRIMARY KEY,
  name                text        NOT NULL,
  kind                text        NOT NULL,
  spec                jsonb       NOT NULL,
  feature_set         text        NOT NULL,
  feature_set_version integer     NOT NULL,
  symbol              text        NOT NULL,
  train_from          timestamptz NOT NULL,
  train_to            timestamptz NOT NULL,
  data_hash           text        NOT NULL,
  metrics             jsonb       NOT NULL DEFAULT '{}'::jsonb,
  artifacts           jsonb       NOT NULL DEFAULT '{}'::jsonb,
  model_card          text        NOT NULL DEFAULT '',
  status              text        NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'champion', 'retired', 'rejected')),
  created_at          timestamptz NOT NULL DEFAULT now(),
  status_changed_at   timestamptz NOT NULL DEFAULT now(),
  workflow_id         text
);
CREATE INDEX models_name_status ON models (name, status);
-- At most one champion per model name: promotion retires the old one in the same transaction.
CREATE UNIQUE INDEX models_one_champion ON models (name) WHERE status = 'champion';

-- Training checkpoints: the latest boosting state per training run, so a retried activity resumes.
CREATE TABLE model_checkpoints (
  run_key    text        PRIMARY KEY,
  round      integer     NOT NULL,
  state      jsonb       NOT NULL,
  model      bytea       NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
