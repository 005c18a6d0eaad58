-- Continuous learning (docs/models.md, "Continuous learning").
--
-- 1. A registry status `shadow`: a challenger scored beside the champion in live sessions (predictions journaled
--    with role 'shadow'), never traded, until its shadow record decides promotion or rejection.
ALTER TABLE models DROP CONSTRAINT IF EXISTS models_status_check;
ALTER TABLE models ADD CONSTRAINT models_status_check
  CHECK (status IN ('candidate', 'shadow', 'champion', 'retired', 'rejected'));

-- 2. Every status change of a model, in order: who moved it and why. Rollback reads the champion before the
--    current one from here; `models list/show` and `learning status` show the history.
CREATE TABLE model_status_events (
  id          bigserial   PRIMARY KEY,
  model_id    text        NOT NULL REFERENCES models (id),
  name        text        NOT NULL,
  from_status text,
  to_status   text        NOT NULL,
  actor       text        NOT NULL,
  reason      text        NOT NULL DEFAULT '',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_status_events_name ON model_status_events (name, id);

-- 3. The drift monitor's daily report per model: feature PSI against the training window, PSI of the day's
--    scores against the model's out-of-sample scores, realised vs expected performance and the sequential tests'
--    state. One row per (model, trading day); a re-run of the same day overwrites it with the same numbers.
CREATE TABLE model_drift (
  model_id          text             NOT NULL,
  name              text             NOT NULL,
  day               date             NOT NULL,
  feature_rows      integer          NOT NULL,
  feature_psi       jsonb            NOT NULL DEFAULT '{}'::jsonb,
  max_feature_psi   double precision,
  prediction_rows   integer          NOT NULL,
  prediction_psi    double precision,
  live_rows         integer          NOT NULL,
  live_hit_rate     double precision,
  live_pnl          double precision,
  expected_hit_rate double precision,
  expected_pnl      double precision,
  sequential        jsonb            NOT NULL DEFAULT '{}'::jsonb,
  breach            boolean          NOT NULL DEFAULT false,
  reasons           jsonb            NOT NULL DEFAULT '[]'::jsonb,
  regime            jsonb,
  computed_at       timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, day)
);
CREATE INDEX model_drift_name_day ON model_drift (name, day);

-- 4. The learning loop's day per model name: the policy's state after the day and what it decided (retrain,
--    shadow entries, promotions, rejections), with the inputs it decided on. `learning status` reads the newest.
CREATE TABLE learning_days (
  name        text        NOT NULL,
  day         date        NOT NULL,
  champion_id text,
  state       jsonb       NOT NULL,
  decisions   jsonb       NOT NULL,
  inputs      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  workflow_id text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, day)
);

-- 5. Hyperparameter search trials: one row per (search, trial) once the trial finished, so a retried or
--    resumed search never computes a finished trial again; every start is counted in `trial_runs`.
CREATE TABLE hpo_trials (
  search_id   text             NOT NULL,
  trial       integer          NOT NULL,
  params      jsonb            NOT NULL,
  score       double precision NOT NULL,
  summary     jsonb            NOT NULL DEFAULT '{}'::jsonb,
  finished_at timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (search_id, trial)
);
CREATE TABLE hpo_trial_runs (
  id          bigserial   PRIMARY KEY,
  search_id   text        NOT NULL,
  trial       integer     NOT NULL,
  attempt     integer     NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX hpo_trial_runs_search ON hpo_trial_runs (search_id, trial);
